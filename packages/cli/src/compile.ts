import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileZeroYaml } from './compile-zero.ts';
import { compileLegacy } from './legacy/compile-legacy.ts';
import { writeNangoJson } from './nango-json.ts';
import { detectFormat } from './project.ts';
import type { CompileResult } from './types.ts';

/** `switchboard compile`: bundles every script of the project and writes .nango/nango.json. */
export async function compileProject(dir: string): Promise<CompileResult> {
    const projectDir = resolve(dir);
    const format = detectFormat(projectDir);
    if (format === 'legacy') {
        const yamlText = readFileSync(join(projectDir, 'nango.yaml'), 'utf8');
        const scripts = await compileLegacy(projectDir, yamlText);
        writeNangoJson(projectDir, scripts);
        return { format, projectDir, scripts, yamlText };
    }
    const scripts = await compileZeroYaml(projectDir);
    writeNangoJson(projectDir, scripts);
    return { format, projectDir, scripts, yamlText: '' };
}
