import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { fail } from '../errors.ts';
import { defineRoute, issuesOf } from '../http/route.ts';
import type { Environment } from '../environments/environments.ts';
import type { Services } from '../services.ts';
import type { Queryable } from '../storage/db.ts';
import { encryptedColumn, reencryptColumn } from '../vault/rotate.ts';
import type { ConnectSession } from './sessions.ts';

/**
 * Public-key frontend auth (docs/connect.md, "Public-key frontend auth"): the legacy way `@nangohq/frontend` starts a
 * flow, with the environment's public key and a connection id the app chooses. Off unless the environment switches it
 * on; with `hmac_required`, the app's backend must sign "<provider config key>:<connection id>" with the
 * environment's HMAC key (HMAC-SHA256, hex), so a browser cannot pick connection ids the backend did not approve.
 */

interface Row {
    id: number;
    uuid: string;
    name: string;
    public_key: string;
    public_key_auth: boolean;
    hmac_required: boolean;
    hmac_key: string | null;
}

const columns = 'id, uuid, name, public_key, public_key_auth, hmac_required, hmac_key';
const ownerOf = (environmentUuid: string) => `environment-hmac-key:${environmentUuid}`;
const newHmacKey = () => randomBytes(32).toString('hex');

/** The connection id a public-key caller may choose: what the connection routes accept, without control characters. */
const connectionIdSchema = z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

/** HMAC-SHA256 (hex) of the values joined with ':' — the construction Nango's frontend auth documents. */
export function connectionHmac(hmacKey: string, providerConfigKey: string, connectionId?: string): string {
    const data = connectionId === undefined ? providerConfigKey : `${providerConfigKey}:${connectionId}`;
    return createHmac('sha256', hmacKey).update(data).digest('hex');
}

function sameDigest(given: string, expected: string): boolean {
    const a = Buffer.from(given.toLowerCase(), 'utf8');
    const b = Buffer.from(expected, 'utf8');
    return a.length === b.length && timingSafeEqual(a, b);
}

async function rowById(q: Queryable, id: number): Promise<Row> {
    const [row] = await q.query<Row>(`SELECT ${columns} FROM environments WHERE id = $1`, [id]);
    if (!row) throw fail('unknown_environment');
    return row;
}

/** The environment's HMAC key in clear, created on first need (two racing creators agree on the first write). */
async function hmacKeyOf(s: Services, row: Row): Promise<string> {
    if (row.hmac_key) return s.vault.decrypt(row.hmac_key, ownerOf(row.uuid));
    const ct = s.vault.encrypt(newHmacKey(), ownerOf(row.uuid));
    await s.db.query('UPDATE environments SET hmac_key = $2 WHERE id = $1 AND hmac_key IS NULL', [row.id, ct]);
    const fresh = await rowById(s.db, row.id);
    return s.vault.decrypt(fresh.hmac_key!, ownerOf(fresh.uuid));
}

/** A flow started with a public key has no connect session; this stands in for one that constrains nothing. */
export function publicKeySession(env: Environment): ConnectSession {
    return {
        id: 0,
        environmentId: env.id,
        endUser: null,
        organization: null,
        tags: {},
        allowedIntegrations: null,
        integrationsConfigDefaults: null,
        webhookUrlOverride: null,
        reconnectConnectionUuid: null,
        expiresAt: new Date(0)
    };
}

/**
 * Resolves `public_key` to its environment and settles the connection id: the key must be an environment's and that
 * environment must allow public keys; when it requires HMAC, `hmac` must sign the integration and connection id.
 * Refused before any integration, connection or provider is looked at.
 */
export async function authenticatePublicKey(
    s: Services,
    providerConfigKey: string,
    query: { public_key?: string | undefined; connection_id?: string | undefined; hmac?: string | undefined }
): Promise<{ env: Environment; connectionId: string }> {
    if (!query.public_key) throw fail('missing_public_key');
    if (!z.uuid().safeParse(query.public_key).success) throw fail('invalid_public_key');
    const [row] = await s.db.query<Row>(`SELECT ${columns} FROM environments WHERE public_key = $1`, [query.public_key.toLowerCase()]);
    if (!row) throw fail('invalid_public_key');
    if (!row.public_key_auth) throw fail('public_key_auth_disabled');
    let chosen: string | undefined;
    if (query.connection_id !== undefined) {
        const parsed = connectionIdSchema.safeParse(query.connection_id);
        if (!parsed.success) throw fail('invalid_query_params', { errors: issuesOf(parsed.error).map((i) => ({ ...i, path: ['connection_id'] })) });
        chosen = parsed.data;
    }
    if (row.hmac_required) {
        if (!query.hmac) throw fail('missing_hmac');
        if (!sameDigest(query.hmac, connectionHmac(await hmacKeyOf(s, row), providerConfigKey, chosen))) throw fail('invalid_hmac');
    }
    return { env: { id: row.id, uuid: row.uuid, name: row.name }, connectionId: chosen ?? randomUUID() };
}

/** A transaction started with a public key completes only while the environment still allows public keys. */
export async function assertPublicKeyAuthEnabled(s: Services, environmentId: number): Promise<void> {
    if (!(await rowById(s.db, environmentId)).public_key_auth) throw fail('public_key_auth_disabled');
}

/** Key rotation: re-encrypts every environment's HMAC key under the current vault key (see vault/rotate.ts). */
export async function reencryptHmacKeys(s: Pick<Services, 'db' | 'vault'>, failed: string[] = []): Promise<number> {
    return reencryptColumn(s.db, s.vault, encryptedColumn('environments', 'hmac_key'), ownerOf, failed);
}

async function settings(s: Services, id: number) {
    const row = await rowById(s.db, id);
    return {
        data: { enabled: row.public_key_auth, public_key: row.public_key, hmac_required: row.hmac_required, hmac_key: await hmacKeyOf(s, row) }
    };
}

const settingsBody = z.object({ enabled: z.boolean().optional(), hmac_required: z.boolean().optional() }).strict();
const rotateBody = z.object({ key: z.enum(['public_key', 'hmac_key']) }).strict();

/** Ours (Nango sets these in its dashboard): read, switch and rotate the environment's public-key auth with its secret key. */
export const publicKeyRoutes = [
    defineRoute({
        method: 'GET',
        url: '/environment/public-key-auth',
        auth: 'secret',
        query: z.object({}).strict(),
        handler: async ({ env }, s) => settings(s, env.id)
    }),
    defineRoute({
        method: 'PATCH',
        url: '/environment/public-key-auth',
        auth: 'secret',
        body: settingsBody,
        handler: async ({ env, body }, s) => {
            await s.db.query(
                'UPDATE environments SET public_key_auth = COALESCE($2, public_key_auth), hmac_required = COALESCE($3, hmac_required) WHERE id = $1',
                [env.id, body.enabled ?? null, body.hmac_required ?? null]
            );
            s.log.info({ environmentId: env.id, enabled: body.enabled, hmacRequired: body.hmac_required }, 'public-key auth settings changed');
            return settings(s, env.id);
        }
    }),
    defineRoute({
        method: 'POST',
        url: '/environment/public-key-auth/rotate',
        auth: 'secret',
        body: rotateBody,
        handler: async ({ env, body }, s) => {
            if (body.key === 'public_key') {
                await s.db.query('UPDATE environments SET public_key = gen_random_uuid() WHERE id = $1', [env.id]);
            } else {
                const row = await rowById(s.db, env.id);
                await s.db.query('UPDATE environments SET hmac_key = $2 WHERE id = $1', [env.id, s.vault.encrypt(newHmacKey(), ownerOf(row.uuid))]);
            }
            s.log.info({ environmentId: env.id, key: body.key }, 'public-key auth key rotated');
            return settings(s, env.id);
        }
    })
];
