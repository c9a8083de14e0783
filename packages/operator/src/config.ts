import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
    KUBECONFIG: z.string().min(1).optional(),
    SWITCHBOARD_URL: z.url().optional(),
    SWITCHBOARD_SECRET_KEY: z.string().min(1).optional(),
    // Comma-separated broker base URLs a resource may name (nango_base_url, spec.broker.url); unset: any.
    SWITCHBOARD_OPERATOR_ALLOWED_BROKER_URLS: z
        .string()
        .optional()
        .transform((v) =>
            v
                ?.split(',')
                .map((u) => u.trim())
                .filter(Boolean)
        )
        .pipe(z.array(z.url({ protocol: /^https?$/ })).optional()),
    SWITCHBOARD_OPERATOR_WATCH_NAMESPACE: z.string().min(1).optional(),
    POD_NAMESPACE: z.string().min(1).optional(),
    POD_NAME: z.string().min(1).optional(),
    SWITCHBOARD_OPERATOR_LEASE_NAME: z.string().min(1).default('switchboard-operator'),
    SWITCHBOARD_OPERATOR_LEASE_DURATION_MS: ms(15_000),
    SWITCHBOARD_OPERATOR_RENEW_DEADLINE_MS: ms(10_000),
    SWITCHBOARD_OPERATOR_RETRY_PERIOD_MS: ms(2_000),
    SWITCHBOARD_OPERATOR_RETRY_BASE_MS: ms(1_000),
    SWITCHBOARD_OPERATOR_RETRY_MAX_MS: ms(300_000),
    SWITCHBOARD_OPERATOR_RESYNC_MS: ms(300_000),
    SWITCHBOARD_OPERATOR_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8081)
});

export interface OperatorConfig {
    kubeconfig: string | undefined;
    defaults: { baseUrl: string | undefined; secretKey: string | undefined; allowedUrls: string[] | undefined };
    watchNamespace: string | undefined;
    lease: { namespace: string; name: string; identity: string; durationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
    retry: { baseMs: number; maxMs: number };
    resyncMs: number;
    healthPort: number;
}

/** Reads the operator's environment once (docs/kubernetes-operator.md lists every variable); throws naming the bad one. */
export function loadConfig(env: NodeJS.ProcessEnv, inClusterNamespace: () => string | undefined): OperatorConfig {
    const r = schema.safeParse(env);
    if (!r.success) throw new Error(`invalid operator configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const e = r.data;
    if (e.SWITCHBOARD_OPERATOR_RENEW_DEADLINE_MS >= e.SWITCHBOARD_OPERATOR_LEASE_DURATION_MS) {
        throw new Error('invalid operator configuration: SWITCHBOARD_OPERATOR_RENEW_DEADLINE_MS must be below SWITCHBOARD_OPERATOR_LEASE_DURATION_MS');
    }
    return {
        kubeconfig: e.KUBECONFIG,
        defaults: {
            baseUrl: e.SWITCHBOARD_URL,
            secretKey: e.SWITCHBOARD_SECRET_KEY,
            allowedUrls: e.SWITCHBOARD_OPERATOR_ALLOWED_BROKER_URLS?.map((u) => new URL(u).href.replace(/\/+$/, ''))
        },
        watchNamespace: e.SWITCHBOARD_OPERATOR_WATCH_NAMESPACE,
        lease: {
            namespace: e.POD_NAMESPACE ?? inClusterNamespace() ?? 'default',
            name: e.SWITCHBOARD_OPERATOR_LEASE_NAME,
            identity: e.POD_NAME ?? `${hostname()}-${randomBytes(4).toString('hex')}`,
            durationMs: e.SWITCHBOARD_OPERATOR_LEASE_DURATION_MS,
            renewDeadlineMs: e.SWITCHBOARD_OPERATOR_RENEW_DEADLINE_MS,
            retryPeriodMs: e.SWITCHBOARD_OPERATOR_RETRY_PERIOD_MS
        },
        retry: { baseMs: e.SWITCHBOARD_OPERATOR_RETRY_BASE_MS, maxMs: e.SWITCHBOARD_OPERATOR_RETRY_MAX_MS },
        resyncMs: e.SWITCHBOARD_OPERATOR_RESYNC_MS,
        healthPort: e.SWITCHBOARD_OPERATOR_HEALTH_PORT
    };
}
