import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { basename, relative } from 'node:path';
import { CliError } from './errors.ts';

/** Bare packages a script may import at runtime; the runner provides them (docs/scripts-compatibility.md, "Entry points"). */
export const EXTERNAL_PACKAGES = ['zod', 'crypto', 'node:crypto', 'url', 'node:url', 'soap', 'unzipper', 'botbuilder'];

// The CLI replaces `createX({...})` with a plain object carrying `type`, so the bundle's default export is data plus
// functions, exactly like the official CLI's output (§3.1); we get there with a tiny module instead of a Babel pass.
const NANGO_SHIM = `
exports.createSync = (config) => ({ type: 'sync', ...config });
exports.createAction = (config) => ({ type: 'action', ...config });
exports.createOnEvent = (config) => ({ type: 'onEvent', ...config });
exports.createFunction = () => { throw new Error('createFunction scripts are not supported by switchboard'); };
`;

function importPolicy(projectDir: string): Plugin {
    return {
        name: 'switchboard-imports',
        setup(b) {
            b.onResolve({ filter: /^(nango|nango\/experimental)$/ }, (args) => ({ path: args.path, namespace: 'switchboard-nango' }));
            b.onLoad({ filter: /.*/, namespace: 'switchboard-nango' }, () => ({ contents: NANGO_SHIM, loader: 'js' }));
            b.onResolve({ filter: /^[^./]/ }, (args) => {
                if (EXTERNAL_PACKAGES.includes(args.path)) return { path: args.path, external: true };
                const file = args.importer ? relative(projectDir, args.importer) : '?';
                return {
                    errors: [
                        {
                            text: `${file}: package "${args.path}" cannot be imported; scripts may only import relative files, nango, ${EXTERNAL_PACKAGES.join(', ')} (do HTTP through the nango object)`
                        }
                    ]
                };
            });
        }
    };
}

/** Bundles one entry into a CommonJS file at `outfile` and returns the bundle text. */
export async function bundleScript(projectDir: string, entry: string, outfile: string, sourcemap = false): Promise<string> {
    try {
        await build({
            absWorkingDir: projectDir,
            entryPoints: [entry],
            outfile,
            bundle: true,
            format: 'cjs',
            platform: 'node',
            target: 'es2022',
            treeShaking: true,
            sourcemap: sourcemap ? 'inline' : false,
            write: true,
            logLevel: 'silent',
            metafile: false,
            plugins: [importPolicy(projectDir)]
        });
    } catch (err) {
        const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
        const forbidden = errors?.find((e) => e.text.includes('cannot be imported'));
        if (forbidden) throw new CliError('FORBIDDEN_IMPORT', forbidden.text, { cause: err });
        const detail = errors?.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)).join('\n') ?? String(err);
        throw new CliError('BUNDLE_FAILED', `${basename(entry)}: ${detail}`, { cause: err });
    }
    return readFile(outfile, 'utf8');
}
