import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { EMBEDDED_PG_DIR, EmbeddedPostgresError } from './embedded-postgres.ts';

/** The embedded engines SWITCHBOARD_EMBEDDED can name. */
export type EmbeddedEngine = 'postgres' | 'pglite';

/** The folder, inside SWITCHBOARD_DATA_DIR, where PGlite keeps its data. */
export const PGLITE_DIR = 'pgdata';

/**
 * Which embedded engine opens `dataDir`. Asked for by name, that one (refusing a folder that holds the other's
 * data, which it would not see). Otherwise the engine whose data the folder already holds, so a folder made by an
 * older Switchboard on PGlite opens as it is, never lost; a new folder gets the embedded PostgreSQL.
 */
export function chooseEmbedded(dataDir: string, asked: EmbeddedEngine | undefined): EmbeddedEngine {
    const hasPglite = existsSync(join(dataDir, PGLITE_DIR, 'PG_VERSION'));
    const hasPostgres = existsSync(join(dataDir, EMBEDDED_PG_DIR, 'PG_VERSION'));
    if (asked === 'postgres' && hasPglite && !hasPostgres) {
        throw new EmbeddedPostgresError(
            `${dataDir} holds PGlite data (${PGLITE_DIR}/), which the embedded PostgreSQL does not read: unset SWITCHBOARD_EMBEDDED (or set it to pglite) to keep using it (docs/operations.md, "The embedded database: what runs")`
        );
    }
    if (asked === 'pglite' && hasPostgres && !hasPglite) {
        throw new EmbeddedPostgresError(
            `${dataDir} holds embedded PostgreSQL data (${EMBEDDED_PG_DIR}/), which PGlite does not read: unset SWITCHBOARD_EMBEDDED (or set it to postgres)`
        );
    }
    if (asked) return asked;
    return hasPglite && !hasPostgres ? 'pglite' : 'postgres';
}

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(opts: { databaseUrl: string | undefined; dataDir: string; embedded?: EmbeddedEngine | undefined }): Promise<Db> {
    let db: Db;
    if (opts.databaseUrl) {
        const { openPostgres } = await import('./postgres.ts');
        db = await openPostgres(opts.databaseUrl);
    } else if (chooseEmbedded(opts.dataDir, opts.embedded) === 'pglite') {
        // Loaded only when used: PGlite's WebAssembly engine is large.
        const { openPglite } = await import('./pglite.ts');
        db = await openPglite(opts.dataDir);
    } else {
        const { openEmbeddedPostgres } = await import('./embedded-postgres.ts');
        db = await openEmbeddedPostgres(opts.dataDir);
    }
    try {
        await migrate(db);
    } catch (err) {
        await db.close().catch(() => undefined);
        throw err;
    }
    return db;
}
