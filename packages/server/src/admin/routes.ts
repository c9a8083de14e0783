import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { fail } from '../errors.ts';
import { rotateKeyFile } from '../vault/key-file.ts';
import { reencryptHmacKeys } from '../connect/public-key.ts';
import { checkReadiness } from './readiness.ts';

/**
 * `/health` is liveness (the process answers; what Nango's own /health says). `/health/ready` is readiness: it
 * reads the database with a time limit and answers 503 when the database does not answer, so an orchestrator
 * stops routing to an instance whose database-backed routes would hang.
 */
export const healthRoutes = [
    defineRoute({ method: 'GET', url: '/health', auth: 'public', handler: async () => ({ result: 'ok' }) }),
    defineRoute({
        method: 'GET',
        url: '/health/ready',
        auth: 'public',
        handler: async ({ reply }, s) => {
            const r = await checkReadiness(s.db);
            if (r.ready) return { result: 'ok' };
            s.log.warn({ reason: r.reason }, 'readiness check failed');
            return reply.code(503).send({ result: 'unavailable', reason: r.reason });
        }
    })
];

/**
 * Operator endpoints (not part of Nango's API): vault key rotation (admin key only: it touches every environment)
 * and the audit trail (one environment's: its own with a secret key, any with the admin key).
 */
export const adminRoutes = [
    defineRoute({
        method: 'POST',
        url: '/admin/keys/rotate',
        auth: 'admin',
        body: z.object({ generate: z.boolean().optional() }).strict().optional(),
        handler: async ({ body }, s) => {
            if (body?.generate) {
                if (!s.config.keyFile)
                    throw fail('invalid_body', {
                        message:
                            'generate is only available when the key lives in the data folder key file; with SWITCHBOARD_ENCRYPTION_KEY, set the new key and move the old one to SWITCHBOARD_PREVIOUS_ENCRYPTION_KEYS'
                    });
                s.vault.useKeyring(rotateKeyFile(s.config.keyFile));
            }
            const failed = {
                integrations: [] as string[],
                connections: [] as string[],
                webhook_settings: [] as string[],
                environment_variables: [] as string[],
                environment_hmac_keys: [] as string[],
                action_runs: [] as string[]
            };
            const integrations = await s.integrations.reencryptAll(failed.integrations);
            const connections = await s.connections.reencryptAll(failed.connections);
            const webhookSettings = await s.webhooks.settings.reencryptAll(failed.webhook_settings);
            const environmentVariables = await s.environmentVariables.reencryptAll(failed.environment_variables);
            const environmentHmacKeys = await reencryptHmacKeys(s, failed.environment_hmac_keys);
            const actionRuns = await s.runs.reencryptAll(failed.action_runs);
            s.log.info(
                { keyId: s.vault.currentKeyId, integrations, connections, webhookSettings, environmentVariables, environmentHmacKeys, actionRuns, failed },
                'secrets re-encrypted under the current key'
            );
            // Rows that could not be decrypted are named (by uuid; environment uuid for webhook settings) so the operator can repair or delete them.
            return {
                data: {
                    key_id: s.vault.currentKeyId,
                    reencrypted: {
                        integrations,
                        connections,
                        webhook_settings: webhookSettings,
                        environment_variables: environmentVariables,
                        environment_hmac_keys: environmentHmacKeys,
                        action_runs: actionRuns
                    },
                    failed
                }
            };
        }
    }),
    defineRoute({
        method: 'GET',
        url: '/admin/audit',
        auth: 'secret_or_admin',
        query: z
            .object({
                connection_id: z.string().max(255).optional(),
                limit: z.coerce.number().int().min(1).max(1000).default(100),
                /** next_cursor of the previous page: events come newest first (the dashboard pages with it). */
                cursor: z.coerce.number().int().positive().optional()
            })
            .strict(),
        handler: async ({ env, query }, s) => {
            const rows = await s.db.query<{ id: number | string }>(
                `SELECT id, connection_uuid, provider_config_key, connection_id, kind, outcome, detail, created_at FROM audit_events
                 WHERE environment_id = $1 AND ($2::text IS NULL OR connection_id = $2) AND ($4::bigint IS NULL OR id < $4) ORDER BY id DESC LIMIT $3`,
                [env.id, query.connection_id ?? null, query.limit, query.cursor ?? null]
            );
            const last = rows.at(-1);
            return { data: rows, next_cursor: rows.length === query.limit && last ? String(last.id) : null };
        }
    })
];
