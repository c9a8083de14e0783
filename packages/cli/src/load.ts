import { createRequire } from 'node:module';
import vm from 'node:vm';
import { CliError } from './errors.ts';
import { EXTERNAL_PACKAGES } from './bundle.ts';

// Definitions are read with the CLI's own zod so `instanceof` and z.toJSONSchema see one zod instance,
// whatever zod version the project has installed.
const ownRequire = createRequire(import.meta.url);

/** Evaluates a CommonJS bundle in a fresh vm context (like the runner does) and returns its `module.exports`. */
export function loadBundle(code: string, file: string): Record<string, unknown> {
    const module: { exports: Record<string, unknown> } = { exports: {} };
    const sandboxRequire = (id: string): unknown => {
        if (!EXTERNAL_PACKAGES.includes(id)) throw new Error(`require("${id}") is not allowed in scripts`);
        return ownRequire(id);
    };
    const context = vm.createContext({
        module,
        exports: module.exports,
        require: sandboxRequire,
        console,
        Buffer,
        URL,
        URLSearchParams,
        setTimeout,
        clearTimeout
    });
    try {
        vm.runInContext(code, context, { filename: file });
    } catch (err) {
        throw new CliError('BUNDLE_LOAD_FAILED', `${file}: evaluating the bundle failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return module.exports;
}
