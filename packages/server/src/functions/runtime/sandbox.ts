/**
 * Evaluates a CommonJS bundle in a fresh `node:vm` context with the globals of docs/scripts-compatibility.md, "Sandbox".
 * The context is not a security boundary (same heap and event loop); the runner process is (see pool.ts).
 */
import { createRequire } from 'node:module';
import vm from 'node:vm';

const nodeRequire = createRequire(import.meta.url);

/** Bare names a bundle may require; the optional ones only when installed next to the server. */
const ALLOWED: Readonly<Record<string, string>> = { zod: 'zod', crypto: 'node:crypto', 'node:crypto': 'node:crypto', url: 'node:url', 'node:url': 'node:url' };
const OPTIONAL = new Set(['soap', 'unzipper', 'botbuilder']);

export interface Sandbox {
    /** `module.exports` after evaluation. */
    exports: Record<string, unknown>;
    /** Cancels every timer the script left behind, so nothing of this run executes during the next one. */
    dispose(): void;
}

/** Evaluates `code` and returns its exports. Throws what the bundle's top level throws. */
export function loadBundle(code: string, filename: string): Sandbox {
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const scriptSetTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
        const t = setTimeout(
            (...a: unknown[]) => {
                timers.delete(t);
                fn(...a);
            },
            ms,
            ...args
        );
        timers.add(t);
        return t;
    };
    // The host `Error` is shared with the runner process: undo a script's changes to its knobs after the run.
    const { prepareStackTrace, stackTraceLimit } = Error;
    const mod: { exports: Record<string, unknown> } = { exports: {} };
    const globals: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    Object.assign(globals, {
        console: silentConsole(),
        Buffer,
        setTimeout: scriptSetTimeout,
        Error,
        URL,
        URLSearchParams,
        require: scriptRequire,
        constructor: undefined
    });
    const context = vm.createContext(globals, { name: filename, codeGeneration: { strings: false, wasm: false } });
    const wrapped = `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
    const fn = new vm.Script(wrapped, { filename }).runInContext(context) as (...a: unknown[]) => void;
    fn.call(mod.exports, mod.exports, scriptRequire, mod, filename, '/');
    return {
        exports: mod.exports,
        dispose() {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            Error.prepareStackTrace = prepareStackTrace;
            Error.stackTraceLimit = stackTraceLimit;
        }
    };
}

/** The `require` scripts see: an allowlist, and a shallow frozen copy so one run cannot swap functions of a shared module for the next. */
function scriptRequire(name: unknown): unknown {
    if (typeof name !== 'string') throw new Error('require expects a module name');
    const target = ALLOWED[name] ?? (OPTIONAL.has(name) ? name : undefined);
    if (!target) throw new Error(`Module '${name}' is not allowed`);
    let real: unknown;
    try {
        real = nodeRequire(target);
    } catch {
        throw new Error(`Module '${name}' is not available on this Switchboard server`);
    }
    return frozenCopy(real);
}

const copies = new Map<unknown, unknown>();
function frozenCopy(mod: unknown): unknown {
    if (typeof mod !== 'object' || mod === null) return mod;
    let copy = copies.get(mod);
    if (!copy) {
        copy = Object.freeze({ ...(mod as Record<string, unknown>) });
        copies.set(mod, copy);
    }
    return copy;
}

/** Every console method is a no-op, as in the Nango runner (the CLI warns scripts that their console output is discarded). */
function silentConsole(): Console {
    const noop = () => undefined;
    return new Proxy(Object.create(null) as Console, { get: () => noop });
}
