import { cpSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../src/main.ts';

const fixtures = new URL('./fixtures/', import.meta.url).pathname;

/** Copies a fixture project to a temp folder (compile writes build/ and .nango/ into the project). */
export function copyFixture(name: string): string {
    const dir = mkdtempSync(join(tmpdir(), `sb-cli-${name}-`));
    cpSync(join(fixtures, name), dir, { recursive: true });
    return dir;
}

/** A temp project made of the given files (path → content). */
export function project(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
    for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
    }
    return dir;
}

/** Runs the CLI in-process and captures its output. */
export async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(
        argv,
        env,
        (s) => out.push(s),
        (s) => err.push(s)
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
}

export const SYNC = (body: string): string => `import { createSync } from 'nango';
import * as z from 'zod';
${body}`;
