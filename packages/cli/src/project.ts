import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from './errors.ts';
import type { ProjectFormat } from './types.ts';

export interface ZeroYamlEntry {
    /** Path as written in index.ts, with `.js` added, e.g. `./demo/syncs/events.js`. */
    importPath: string;
    /** Absolute path of the TypeScript source. */
    file: string;
    providerConfigKey: string;
    /** syncs | actions | on-events (the folder), or '' when the script is not in one. */
    folder: string;
    name: string;
}

/** Legacy projects have nango.yaml; everything else is treated as zero-YAML. */
export function detectFormat(projectDir: string): ProjectFormat {
    if (!existsSync(projectDir)) throw new CliError('PROJECT_NOT_FOUND', `${projectDir}: folder does not exist`);
    return existsSync(join(projectDir, 'nango.yaml')) ? 'legacy' : 'zero-yaml';
}

// Only `import './x/y.js';` lines count: a relative path and no bindings (§1.2, same rule as the official CLI).
const SIDE_EFFECT_IMPORT = /^\s*import\s+['"](\.\/[^'"]+)['"]\s*;?\s*$/;

/** Reads the scripts listed by side-effect imports in the root index.ts. */
export function readIndexEntries(projectDir: string): ZeroYamlEntry[] {
    const indexFile = join(projectDir, 'index.ts');
    if (!existsSync(indexFile))
        throw new CliError(
            'INDEX_MISSING',
            `${indexFile}: not found; a zero-YAML project lists its scripts in index.ts (e.g. import './github/syncs/issues.js';)`
        );
    const entries: ZeroYamlEntry[] = [];
    for (const line of readFileSync(indexFile, 'utf8').split('\n')) {
        const m = SIDE_EFFECT_IMPORT.exec(line);
        if (!m) continue;
        let importPath = m[1]!;
        if (importPath.endsWith('.ts')) importPath = `${importPath.slice(0, -3)}.js`;
        if (!importPath.endsWith('.js')) importPath += '.js';
        const file = resolve(projectDir, `${importPath.slice(0, -3)}.ts`);
        if (!existsSync(file)) throw new CliError('SCRIPT_NOT_FOUND', `index.ts imports ${m[1]} but ${file} does not exist`);
        const parts = importPath.slice(2, -3).split('/');
        entries.push({
            importPath,
            file,
            providerConfigKey: parts[0]!,
            folder: parts.length > 2 ? parts[parts.length - 2]! : '',
            name: parts[parts.length - 1]!
        });
    }
    return entries;
}

/** build/<integration>_<folder>_<name>.cjs: the import path with separators replaced by `_` (§1.2). */
export function bundleFileName(entry: ZeroYamlEntry): string {
    return `${entry.importPath.slice(2, -3).replaceAll('/', '_')}.cjs`;
}
