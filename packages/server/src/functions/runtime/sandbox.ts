/**
 * Evaluates a CommonJS bundle in a fresh `node:vm` context with the globals of docs/scripts-compatibility.md, "Sandbox".
 * The bundle is compiled once per runner process (compileBundle) and evaluated in each run's new context.
 * The context is not a security boundary (same heap and event loop); the runner process is, and it only ever
 * serves one environment (see pool.ts). Within it, nothing mutable of the runner's realm is left in reach, so one
 * run cannot plant something for the next (issue #10 item 2): the runner starts with --frozen-intrinsics
 * (Object/Map/Promise/Function… prototypes, see runner.ts), the Node globals handed over are frozen
 * (hardenRunnerRealm), modules come as frozen copies, and zod's registry and config are reset for each run.
 * zod's own classes stay writable (zod defines members on its prototypes lazily, so they cannot be frozen, and
 * loading a fresh zod per run costs ~20 ms): they are shared only by the runs of one environment's process.
 */
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { scriptModule, shimBluebirdForUnzipper } from './script-modules.ts';

const nodeRequire = createRequire(import.meta.url);

/**
 * Bare names a bundle may require, as on Nango's runner (`soap` and `unzipper` are dependencies of the server);
 * the optional ones only when installed next to the server.
 */
const ALLOWED: Readonly<Record<string, string>> = {
    zod: 'zod',
    crypto: 'node:crypto',
    'node:crypto': 'node:crypto',
    url: 'node:url',
    'node:url': 'node:url',
    soap: 'soap',
    unzipper: 'unzipper'
};
const OPTIONAL = new Set(['botbuilder']);

export interface Sandbox {
    /** `module.exports` after evaluation. */
    exports: Record<string, unknown>;
    /**
     * Cancels every timer the script left behind, so nothing of this run executes during the next one, and resets
     * zod's shared state. Returns false when the process cannot be made clean again and must be retired.
     */
    dispose(): boolean;
}

/**
 * A bundle compiled, not yet evaluated. A `vm.Script` is bound to no context: the same compiled code is evaluated
 * in each run's fresh context, so runs share the compile (immutable code) and nothing else, as before. Compiling
 * is a syntax error's moment (thrown here, as the run's error).
 */
export interface CompiledBundle {
    script: vm.Script;
    filename: string;
}

export function compileBundle(code: string, filename: string): CompiledBundle {
    const wrapped = `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
    return { script: new vm.Script(wrapped, { filename }), filename };
}

/** Evaluates a compiled bundle in a fresh context and returns its exports. Throws what the bundle's top level throws. */
export function loadBundle(bundle: CompiledBundle): Sandbox {
    const { script, filename } = bundle;
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const modules = new Map<string, unknown>();
    const scriptRequire = (name: unknown): unknown => requireFor(modules, name);
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
        // A number, not the runner's Timeout object (whose prototype belongs to the runner).
        return Number(t);
    };
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
    const fn = script.runInContext(context) as (...a: unknown[]) => void;
    fn.call(mod.exports, mod.exports, scriptRequire, mod, filename, '/');
    return {
        exports: mod.exports,
        dispose() {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            return modules.has('zod') ? resetZod() : true;
        }
    };
}

/** The `require` scripts see: an allowlist of frozen copies; zod's shared state is reset at each run's first require. */
function requireFor(modules: Map<string, unknown>, name: unknown): unknown {
    if (typeof name !== 'string') throw new Error('require expects a module name');
    const target = ALLOWED[name] ?? (OPTIONAL.has(name) ? name : undefined);
    if (!target) throw new Error(`Module '${name}' is not allowed`);
    if (modules.has(target)) return modules.get(target);
    let mod: unknown;
    try {
        if (target === 'unzipper') shimBluebirdForUnzipper(nodeRequire);
        mod = target === 'zod' ? zodForRun() : frozenCopy(scriptModule(name, nodeRequire(target)));
    } catch {
        throw new Error(`Module '${name}' is not available on this Switchboard server`);
    }
    modules.set(target, mod);
    return mod;
}

interface ZodState {
    copy: unknown;
    registry: object;
    clear: (this: object) => unknown;
    config: Record<string, unknown>;
    defaults: Record<string, unknown>;
}
let zod: ZodState | undefined;

/** zod for the scripts: one copy per runner process (so per environment), reset after each run that used it. */
function zodForRun(): unknown {
    if (!zod) {
        const real = nodeRequire('zod') as { globalRegistry: { clear(): unknown }; config: () => Record<string, unknown> };
        const config = real.config();
        // `clear` is taken now: a script could replace the registry's own method.
        zod = { copy: Object.freeze({ ...real }), registry: real.globalRegistry, clear: real.globalRegistry.clear, config, defaults: { ...config } };
    }
    return zod.copy;
}

/**
 * Empties zod's global registry (`.meta({ id })`) and puts its global config (`z.config(...)`, e.g. an error map)
 * back as it was at load, so what one run registered or configured never reaches the next. False when a script
 * made that impossible (e.g. a non-configurable config key): the process must then be retired.
 */
function resetZod(): boolean {
    if (!zod) return true;
    try {
        zod.clear.call(zod.registry);
        for (const key of Object.keys(zod.config)) delete zod.config[key];
        Object.assign(zod.config, zod.defaults);
        return Object.isExtensible(zod.config);
    } catch {
        return false;
    }
}

const copies = new Map<unknown, unknown>();
/** A frozen copy of a module whose classes, their prototypes and nested objects are frozen too (one level down). */
function frozenCopy(mod: unknown): unknown {
    if (typeof mod !== 'object' || mod === null) return mod;
    let copy = copies.get(mod);
    if (!copy) {
        for (const value of Object.values(mod)) freezeMember(value);
        copy = Object.freeze({ ...(mod as Record<string, unknown>) });
        copies.set(mod, copy);
    }
    return copy;
}

function freezeMember(value: unknown): void {
    if (typeof value === 'function') {
        Object.freeze(value);
        if (typeof value.prototype === 'object' && value.prototype !== null) Object.freeze(value.prototype);
    } else if (typeof value === 'object' && value !== null) {
        Object.freeze(value);
    }
}

/**
 * Freezes what of the runner's realm a script can reach beyond the JS intrinsics (which --frozen-intrinsics
 * freezes): the Node globals handed to scripts and the classes of the `nango` object. Called once at boot.
 */
export function hardenRunnerRealm(extra: unknown[]): void {
    for (const value of [Buffer, URL, URLSearchParams, ...extra]) freezeMember(value);
}

/** Every console method is a no-op, as in the Nango runner (the CLI warns scripts that their console output is discarded). */
function silentConsole(): Console {
    const noop = () => undefined;
    return new Proxy(Object.create(null) as Console, { get: () => noop });
}
