import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleScript } from './bundle.ts';
import { readDefinition } from './definitions.ts';
import { CliError, CliErrors } from './errors.ts';
import { loadBundle } from './load.ts';
import { bundleFileName, readIndexEntries } from './project.ts';
import type { CompiledScript } from './types.ts';

const FOLDER_TYPE: Record<string, string> = { syncs: 'sync', actions: 'action', 'on-events': 'on-event' };

/** Bundles every script listed in index.ts and reads its definition; all per-script errors are reported together. */
export async function compileZeroYaml(projectDir: string, opts: { sourcemap?: boolean } = {}): Promise<CompiledScript[]> {
    const entries = readIndexEntries(projectDir);
    const buildDir = join(projectDir, 'build');
    mkdirSync(buildDir, { recursive: true });
    const scripts: CompiledScript[] = [];
    const errors: CliError[] = [];
    for (const entry of entries) {
        try {
            const bundlePath = join(buildDir, bundleFileName(entry));
            const code = await bundleScript(projectDir, entry.file, bundlePath, opts.sourcemap);
            const src = { file: entry.importPath.replace(/\.js$/, '.ts'), providerConfigKey: entry.providerConfigKey, name: entry.name, code, bundlePath };
            const script = readDefinition(loadBundle(code, src.file), src);
            const expected = FOLDER_TYPE[entry.folder];
            if (expected && expected !== script.type) {
                throw new CliError('INVALID_DEFINITION', `${src.file}: a ${script.type} in the "${entry.folder}" folder; move it or change its createX call`);
            }
            scripts.push({ ...script, entryPath: entry.file });
        } catch (err) {
            if (err instanceof CliError) errors.push(err);
            else throw err;
        }
    }
    if (errors.length > 0) throw new CliErrors(errors);
    return scripts;
}

/** The TypeScript source deployed as fileBody.ts. */
export function readSource(script: CompiledScript): string {
    return readFileSync(script.entryPath, 'utf8');
}
