import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's kubectl (package kubernetes-client; .ci/run installs it when missing), or the one on PATH. */
export function kubectlPath(): string {
    for (const p of ['/usr/bin/kubectl', '/usr/local/bin/kubectl']) if (existsSync(p)) return p;
    return 'kubectl';
}

export interface KubectlResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs kubectl against a kubeconfig, with its own HOME so its discovery cache starts empty. */
export function kubectl(kubeconfig: string, args: string[], home = mkdtempSync(join(tmpdir(), 'sb-kubectl-home-'))): Promise<KubectlResult> {
    return new Promise((resolve) => {
        execFile(
            kubectlPath(),
            ['--kubeconfig', kubeconfig, '--cache-dir', join(home, 'cache'), ...args],
            { env: { PATH: process.env['PATH'] ?? '', HOME: home }, timeout: 60_000 },
            (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
        );
    });
}
