import { loadConfig, ConfigError } from './config/config.ts';
import { start } from './server.ts';
import { CatalogueError } from './providers/catalogue.ts';
import { DataDirLockedError } from './storage/folder-lock.ts';
import { EmbeddedPostgresError } from './storage/embedded-postgres.ts';
import { SERVER_NODE_FLAGS, tuneHeapForBodies } from './runtime/heap.ts';

// Before anything allocates: how V8 counts the buffers proxied bodies arrive in (runtime/heap.ts).
tuneHeapForBodies();

// The only place that reads process.env.
try {
    const config = loadConfig(process.env);
    const running = await start(config);
    // By name: `--initial-old-space-size=128` is a deliberate choice (docs/operations.md), not a missing flag.
    const named = (flag: string) => flag.split('=')[0];
    const missing = SERVER_NODE_FLAGS.filter((flag) => !process.execArgv.some((arg) => named(arg) === named(flag)));
    // `npm start` and the Docker image pass them; a hand-written command line may not (docs/operations.md).
    if (missing.length > 0) running.services.log.info({ missing }, 'started without the recommended Node flags: large proxied bodies cost more CPU');
    const stop = (signal: string) => {
        running.services.log.info({ signal }, 'shutting down');
        running.close().then(
            () => process.exit(0),
            () => process.exit(1)
        );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
    if (err instanceof ConfigError || err instanceof CatalogueError || err instanceof DataDirLockedError || err instanceof EmbeddedPostgresError) {
        process.stderr.write(`switchboard: configuration error: ${err.message}\n`);
        process.exit(78);
    }
    throw err;
}
