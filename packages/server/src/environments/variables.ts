import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../storage/db.ts';
import type { Vault } from '../vault/vault.ts';
import { encryptedColumn, reencryptColumn } from '../vault/rotate.ts';

const ownerOf = (uuid: string) => `environment-variable:${uuid}`;

export const MAX_VARIABLES = 1000;

/** What PUT /admin/environment-variables accepts: the environment's whole set, which replaces the stored one. */
export const variablesBody = z
    .object({
        variables: z
            .array(
                z
                    .object({
                        // Names a script can rely on: what shells and .env files accept.
                        name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'letters, digits and underscores, not starting with a digit, at most 255'),
                        value: z.string().max(64 * 1024)
                    })
                    .strict()
            )
            .max(MAX_VARIABLES)
            .refine((vs) => new Set(vs.map((v) => v.name)).size === vs.length, 'variable names must be unique')
    })
    .strict();

export interface EnvironmentVariable {
    name: string;
    value: string;
}

/** Per-environment variables for scripts (nango.getEnvironmentVariables), encrypted at rest. */
export class EnvironmentVariables {
    private readonly db: Db;
    private readonly vault: Vault;

    constructor(db: Db, vault: Vault) {
        this.db = db;
        this.vault = vault;
    }

    /** The environment's variables by name, decrypted. */
    async list(environmentId: number): Promise<EnvironmentVariable[]> {
        const rows = await this.db.query<{ name: string; uuid: string; value: string }>(
            'SELECT name, uuid, value FROM environment_variables WHERE environment_id = $1 ORDER BY name',
            [environmentId]
        );
        return rows.map((r) => ({ name: r.name, value: this.vault.decrypt(r.value, ownerOf(r.uuid)) }));
    }

    /** Replaces the environment's set in one transaction: a reader sees the old set or the new one, never a mix. */
    async replace(environmentId: number, variables: EnvironmentVariable[]): Promise<void> {
        await this.db.transaction(async (tx) => {
            await tx.query('DELETE FROM environment_variables WHERE environment_id = $1', [environmentId]);
            for (const v of variables) {
                const uuid = randomUUID();
                await tx.query('INSERT INTO environment_variables (environment_id, name, uuid, value) VALUES ($1, $2, $3, $4)', [
                    environmentId,
                    v.name,
                    uuid,
                    this.vault.encrypt(v.value, ownerOf(uuid))
                ]);
            }
        });
    }

    /** Key rotation: re-encrypts every value under the current key (see vault/rotate.ts). */
    async reencryptAll(failed: string[] = []): Promise<number> {
        return reencryptColumn(this.db, this.vault, encryptedColumn('environment_variables', 'value'), ownerOf, failed);
    }
}
