import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * kubectl: SWITCHBOARD_TEST_KUBECTL when set (to check another version), else the one installed (Debian's
 * kubernetes-client, 1.20 on bookworm, which .ci/run installs when none is there; or a newer one already present).
 */
export function kubectlPath(): string {
    const chosen = process.env['SWITCHBOARD_TEST_KUBECTL'];
    if (chosen) return chosen;
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
