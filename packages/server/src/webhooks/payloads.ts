import type { ConnectionSummary } from '../connections/store.ts';

export type AuthOperation = 'creation' | 'override' | 'refresh' | 'deletion';

/**
 * Nango's `auth` webhook body (docs/compatibility.md, "Webhooks"), plus `revocation` on our `deletion` operation and
 * `connectionStatus` on a failure that took the connection out of `active` (`revoked` or `expired`, docs/refresh.md).
 */
export interface AuthPayload {
    from: 'nango';
    type: 'auth';
    connectionId: string;
    providerConfigKey: string;
    authMode: string;
    provider: string;
    environment: string;
    operation: AuthOperation;
    success: boolean;
    tags?: Record<string, string>;
    endUser?: { endUserId: string; endUserEmail?: string; organizationId?: string; tags: Record<string, string> };
    error?: { type: string; description: string };
    revocation?: { outcome: string; status?: number };
    connectionStatus?: 'revoked' | 'expired';
}

export function authPayload(input: {
    environmentName: string;
    connection: ConnectionSummary;
    authMode: string;
    operation: AuthOperation;
    success: boolean;
    error?: { type: string; description: string } | undefined;
    revocation?: { outcome: string; status?: number | undefined } | undefined;
}): AuthPayload {
    const c = input.connection;
    const p: AuthPayload = {
        from: 'nango',
        type: 'auth',
        connectionId: c.connectionId,
        providerConfigKey: c.providerConfigKey,
        authMode: input.authMode,
        provider: c.provider,
        environment: input.environmentName,
        operation: input.operation,
        success: input.success
    };
    if (Object.keys(c.tags).length) p.tags = c.tags;
    if (c.endUser) {
        p.endUser = { endUserId: c.endUser.id, tags: c.endUser.tags ?? {} };
        if (c.endUser.email) p.endUser.endUserEmail = c.endUser.email;
        if (c.endUser.organization?.id) p.endUser.organizationId = c.endUser.organization.id;
    }
    if (!input.success) p.error = input.error ?? { type: 'unknown_error', description: '' };
    if (!input.success && input.operation === 'refresh' && c.status !== 'active') p.connectionStatus = c.status;
    if (input.revocation) {
        p.revocation = { outcome: input.revocation.outcome };
        if (input.revocation.status !== undefined) p.revocation.status = input.revocation.status;
    }
    return p;
}

/** Provider request headers that are forwarded with a `forward` webhook (docs/compatibility.md, "Webhooks" lists what is dropped). */
export function forwardableHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
    const dropped = new Set([
        'host',
        'authorization',
        'connection',
        'keep-alive',
        'content-length',
        'content-type',
        'content-encoding',
        'cookie',
        'set-cookie',
        'referer',
        'user-agent',
        'www-authenticate',
        'server',
        'transfer-encoding'
    ]);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
        const n = name.toLowerCase();
        // Our own signature headers must not be spoofable by the provider request.
        if (dropped.has(n) || n.startsWith('sec-') || n.startsWith('proxy-') || n.startsWith('x-nango-') || n.startsWith('webhook-')) continue;
        if (value === undefined) continue;
        out[n] = Array.isArray(value) ? value.join(', ') : value;
    }
    return out;
}
