import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Another live process (or this one) already has the data folder open. */
export class DataDirLockedError extends Error {
    override name = 'DataDirLockedError';
}

/** The lock calls of fs-native-extensions (it ships no types): an open-file-description lock on Linux, flock on macOS. */
interface FileLocks {
    tryLock(fd: number, opts?: { shared?: boolean }): boolean;
}
const fileLocks = createRequire(import.meta.url)('fs-native-extensions') as FileLocks;

/**
 * PGlite has no cross-process locking, and two processes on one folder would corrupt it and break the
 * one-refresh-per-connection guarantee; the second one must refuse to start.
 *
 * The lock is a kernel file lock on `switchboard.lock`, held through a descriptor open for the life of the
 * process: the kernel drops it when the process ends however it ends (kill -9, OOM, a crash), so nothing a
 * dead process leaves behind can block the next start. A pid file could not tell a dead owner from a live one
 * when pids are reused, e.g. as pid 1 in a container restarted after kill -9 (issue #10 item 8). The file is
 * never deleted: unlinking a locked path would let a third process lock a new file beside the held one. The
 * pid written into it is for people only.
 */
export function lockFolder(dir: string): () => void {
    const file = join(dir, 'switchboard.lock');
    const fd = openSync(file, 'a+', 0o600);
    let locked: boolean;
    try {
        locked = fileLocks.tryLock(fd);
    } catch (err) {
        closeSync(fd);
        throw err;
    }
    if (!locked) {
        const holder = readFileSync(file, 'utf8').trim();
        closeSync(fd);
        throw new DataDirLockedError(
            `SWITCHBOARD_DATA_DIR ${dir} is in use by another running process${/^\d+$/.test(holder) ? ` (pid ${holder})` : ''}; run one process per data folder, or use SWITCHBOARD_DATABASE_URL for several instances`
        );
    }
    ftruncateSync(fd);
    writeSync(fd, `${process.pid}\n`);
    // Closing the descriptor releases the lock.
    return () => closeSync(fd);
}
