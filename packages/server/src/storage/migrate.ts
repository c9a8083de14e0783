import { readdirSync, readFileSync } from 'node:fs';
import type { Db } from './db.ts';

const dir = new URL('./migrations/', import.meta.url);

/** Applies every migrations/NNN_name.sql not yet recorded, in order, each in its own transaction. */
export async function migrate(db: Db): Promise<string[]> {
    const files = readdirSync(dir)
        .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
        .sort();
    // One lock across instances so three servers starting together do not race on DDL.
    return db.withLock('switchboard:migrations', async () => {
        await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
        const done = new Set((await db.query<{ version: string }>('SELECT version FROM schema_migrations')).map((r) => r.version));
        const applied: string[] = [];
        for (const file of files) {
            if (done.has(file)) continue;
            const sql = readFileSync(new URL(file, dir), 'utf8');
            await db.transaction(async (tx) => {
                for (const statement of splitStatements(sql)) await tx.query(statement);
                await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
            });
            applied.push(file);
        }
        return applied;
    });
}

// Our migrations are plain DDL with no function bodies, so splitting on `;` at line ends is exact.
function splitStatements(sql: string): string[] {
    return sql
        .split(/;\s*$/m)
        .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
        .filter((s) => s.length > 0);
}
