// Builds the Connect UI when dist/ is missing or older than its sources; `npm start` and `npm test` run it so a
// fresh clone works without a separate build step, and an unchanged tree costs a few stat calls.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const here = new URL('..', import.meta.url).pathname;
// Both apps come out of one build: the Connect UI (dist/) and the operator dashboard (dist-dashboard/).
const outputs = [join(here, 'dist', 'index.html'), join(here, 'dist-dashboard', 'index.html')];
const inputs = [
    'src',
    'public',
    'index.html',
    'dashboard',
    'vite.config.ts',
    'vite.dashboard.config.ts',
    'package.json',
    'tsconfig.json',
    '../../package-lock.json'
];

function newest(path: string): number {
    if (!existsSync(path)) return 0;
    const s = statSync(path);
    if (!s.isDirectory()) return s.mtimeMs;
    return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const source = Math.max(...inputs.map((p) => newest(join(here, p))));
const output = Math.min(...outputs.map((built) => (existsSync(built) ? statSync(built).mtimeMs : 0)));
if (output >= source) {
    process.stdout.write('Connect UI build is up to date\n');
} else {
    process.stdout.write(output ? 'Connect UI sources changed: rebuilding\n' : 'Connect UI not built yet: building\n');
    execFileSync('npm', ['run', 'build'], { cwd: here, stdio: 'inherit' });
}
