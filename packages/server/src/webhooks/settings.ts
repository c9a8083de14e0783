import type { Db, Queryable } from '../storage/db.ts';
import type { Vault } from '../vault/vault.ts';
import type { Environment } from '../environments/environments.ts';
import { generateSecret } from './signing.ts';
import { type EncryptedColumn, reencryptColumn } from '../vault/rotate.ts';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { assertHostAllowed, EgressForbiddenError, isPublicAddress } from '../egress/address-policy.ts';
import { ConfigError } from '../config/config.ts';
import { fail } from '../errors.ts';

export interface WebhookSettings {
    url: string | null;
    secondaryUrl: string | null;
    secret: string;
}

export interface SettingsPatch {
    url?: string | null | undefined;
    secondaryUrl?: string | null | undefined;
    /** A new secret; `'generate'` makes a fresh random one. */
    secret?: string | 'generate' | undefined;
}

interface Row {
    url: string | null;
    secondary_url: string | null;
    signing_secret: string;
}

const ownerOf = (envUuid: string) => `webhook-settings:${envUuid}`;
// The signing secrets, one per environment, named by the environment's uuid.
const SIGNING_SECRETS: EncryptedColumn = {
    select: 'SELECT e.uuid::text AS uuid, s.signing_secret AS credentials FROM webhook_settings s JOIN environments e ON e.id = s.environment_id',
    update: 'UPDATE webhook_settings s SET signing_secret = $2 FROM environments e WHERE e.id = s.environment_id AND e.uuid = $1 AND s.signing_secret = $3'
};

/**
 * Why outbound webhooks to `url` would be refused when delivered, or undefined when they can go: the egress
 * address policy, applied when the URL is configured, so a URL the worker can never reach (`http://localhost.:8080`,
 * a name of a private address) is refused then and there instead of failing every delivery later (issue #10 item 12).
 * A name that does not resolve now is accepted: the delivery-time check still guards the address it resolves to.
 */
export async function webhookUrlRefusal(url: string, allowPrivate: boolean): Promise<string | undefined> {
    if (allowPrivate) return undefined;
    // The trailing dot of a fully qualified name (`localhost.`) names the same host.
    const host = new URL(url).hostname
        .replace(/^\[|\]$/g, '')
        .replace(/\.+$/, '')
        .toLowerCase();
    try {
        assertHostAllowed(host, false);
    } catch (err) {
        if (err instanceof EgressForbiddenError) return `${url} is a private or local address, and private egress is off (SWITCHBOARD_ALLOW_PRIVATE_EGRESS)`;
        throw err;
    }
    if (isIP(host)) return undefined;
    const addresses = await lookup(host, { all: true }).catch(() => []);
    if (addresses.length > 0 && !addresses.some((a) => isPublicAddress(a.address))) {
        return `${url} resolves to a private or local address, and private egress is off (SWITCHBOARD_ALLOW_PRIVATE_EGRESS)`;
    }
    return undefined;
}

/** Per-environment webhook URLs and signing secret; the secret is a vault ciphertext bound to the environment. */
export class WebhookSettingsStore {
    private readonly db: Db;
    private readonly vault: Vault;
    private readonly allowPrivateEgress: boolean;

    constructor(db: Db, vault: Vault, opts: { allowPrivateEgress: boolean }) {
        this.db = db;
        this.vault = vault;
        this.allowPrivateEgress = opts.allowPrivateEgress;
    }

    /**
     * Boot: environment variables win over stored values (they are the operator's declaration); a secret is
     * generated the first time an environment has none. Returns whether one was generated.
     */
    async bootstrap(env: Environment, seed: { url: string | undefined; secret: string | undefined }): Promise<{ generated: boolean }> {
        const refused = seed.url === undefined ? undefined : await webhookUrlRefusal(seed.url, this.allowPrivateEgress);
        if (refused) throw new ConfigError(`SWITCHBOARD_WEBHOOK_URL: ${refused}`);
        return this.db.withLock(`switchboard:webhook-settings:${env.id}`, async () => {
            const [row] = await this.db.query<Row>('SELECT url, secondary_url, signing_secret FROM webhook_settings WHERE environment_id = $1', [env.id]);
            if (!row) {
                await this.insert(this.db, env, seed.url ?? null, seed.secret ?? generateSecret());
                return { generated: seed.secret === undefined };
            }
            const patch: SettingsPatch = {};
            if (seed.url !== undefined && seed.url !== row.url) patch.url = seed.url;
            if (seed.secret !== undefined && seed.secret !== this.tryDecrypt(env, row)) patch.secret = seed.secret;
            if (Object.keys(patch).length) await this.update(env, patch);
            return { generated: false };
        });
    }

    private async insert(q: Queryable, env: Environment, url: string | null, secret: string): Promise<void> {
        await q.query('INSERT INTO webhook_settings (environment_id, url, signing_secret) VALUES ($1, $2, $3) ON CONFLICT (environment_id) DO NOTHING', [
            env.id,
            url,
            this.vault.encrypt(secret, ownerOf(env.uuid))
        ]);
    }

    private decrypt(env: Environment, row: Row): string {
        return this.vault.decrypt(row.signing_secret, ownerOf(env.uuid));
    }

    // At boot a stored secret under a lost key must not stop a configured one from replacing it.
    private tryDecrypt(env: Environment, row: Row): string | undefined {
        try {
            return this.decrypt(env, row);
        } catch {
            return undefined;
        }
    }

    /** The settings, creating them (with a fresh secret) for an environment that has none yet. */
    async get(env: Environment): Promise<WebhookSettings> {
        const read = () => this.db.query<Row>('SELECT url, secondary_url, signing_secret FROM webhook_settings WHERE environment_id = $1', [env.id]);
        let [row] = await read();
        if (!row) {
            await this.insert(this.db, env, null, generateSecret());
            [row] = await read();
        }
        return { url: row!.url, secondaryUrl: row!.secondary_url, secret: this.decrypt(env, row!) };
    }

    /** Only the target URLs, read through `q` so callers inside a transaction never wait on another connection. */
    async targets(q: Queryable, environmentId: number): Promise<{ url: string | null; secondaryUrl: string | null }> {
        const [row] = await q.query<Row>('SELECT url, secondary_url FROM webhook_settings WHERE environment_id = $1', [environmentId]);
        return { url: row?.url ?? null, secondaryUrl: row?.secondary_url ?? null };
    }

    /** Changes the settings; a URL that deliveries could never reach is refused with `invalid_body`. */
    async update(env: Environment, patch: SettingsPatch): Promise<WebhookSettings> {
        for (const [field, url] of [
            ['url', patch.url],
            ['secondary_url', patch.secondaryUrl]
        ] as const) {
            const refused = url ? await webhookUrlRefusal(url, this.allowPrivateEgress) : undefined;
            if (refused) throw fail('invalid_body', { message: `${field}: ${refused}`, errors: [{ code: 'custom', message: refused, path: [field] }] });
        }
        await this.get(env).catch(() => undefined); // creates the row when missing
        const secret = patch.secret === 'generate' ? generateSecret() : patch.secret;
        const [row] = await this.db.query<Row>(
            `UPDATE webhook_settings SET url = CASE WHEN $2 THEN $3 ELSE url END, secondary_url = CASE WHEN $4 THEN $5 ELSE secondary_url END,
                signing_secret = COALESCE($6, signing_secret), updated_at = now()
             WHERE environment_id = $1 RETURNING url, secondary_url, signing_secret`,
            [
                env.id,
                patch.url !== undefined,
                patch.url ?? null,
                patch.secondaryUrl !== undefined,
                patch.secondaryUrl ?? null,
                secret ? this.vault.encrypt(secret, ownerOf(env.uuid)) : null
            ]
        );
        return { url: row!.url, secondaryUrl: row!.secondary_url, secret: secret ?? this.decrypt(env, row!) };
    }

    /** Re-encrypts every stored secret under the vault's current key (key rotation); names rows it cannot read. */
    async reencryptAll(failed: string[] = []): Promise<number> {
        return reencryptColumn(this.db, this.vault, SIGNING_SECRETS, ownerOf, failed);
    }
}
