/**
 * What `require('unzipper')` and `require('soap')` give a script: the parts that work on data in memory or over
 * HTTP, as templates use them (Nango's runner gives scripts no `fs`, so a template can only unzip a downloaded
 * Buffer or stream). The parts that read or write the server's disk are left out: the runner process runs as the
 * server's OS user, next to its data folder and key file.
 */

type Mod = Record<string, unknown>;
type Fn = (...args: unknown[]) => unknown;

const facades = new Map<string, unknown>();

/** The module as scripts see it (the same object for every require of one name in a process). */
export function scriptModule(name: string, real: unknown): unknown {
    if (name !== 'unzipper' && name !== 'soap') return real;
    let facade = facades.get(name);
    if (!facade) {
        facade = name === 'unzipper' ? unzipperFacade(real as Mod) : soapFacade(real as Mod);
        facades.set(name, facade);
    }
    return facade;
}

/** `Parse`, `ParseOne` (streams) and `Open.buffer` / `Open.custom`; not `Extract` (writes files) nor `Open.file/url/s3`. */
function unzipperFacade(real: Mod): Mod {
    const open = real['Open'] as Mod;
    return { Parse: real['Parse'], ParseOne: real['ParseOne'], Open: Object.freeze({ buffer: open['buffer'], custom: open['custom'] }) };
}

/**
 * soap without its server (`listen`) and without local files: a WSDL is an http(s) URL or inline XML, WSDL imports
 * must resolve to http(s), and the SSL security classes take key material as Buffers, not file paths.
 */
function soapFacade(real: Mod): Mod {
    const out: Mod = {};
    for (const key of Object.keys(real)) {
        if (key === 'listen' || key === '__esModule') continue;
        out[key] = real[key];
    }
    const createClient = real['createClient'] as Fn;
    const createClientAsync = real['createClientAsync'] as Fn;
    out['createClient'] = (url: unknown, ...rest: unknown[]) => {
        const refused = wsdlRefusal(url);
        const callback = rest.find((a) => typeof a === 'function') as Fn | undefined;
        if (refused) {
            if (callback) return void callback(refused);
            throw refused;
        }
        return createClient(url, withImportGuard(rest[0]), ...rest.slice(1));
    };
    out['createClientAsync'] = async (url: unknown, options?: unknown, ...rest: unknown[]) => {
        const refused = wsdlRefusal(url);
        if (refused) throw refused;
        return createClientAsync(url, withImportGuard(options), ...rest);
    };
    out['ClientSSLSecurity'] = bufferOnly(real['ClientSSLSecurity'] as new (...a: unknown[]) => unknown, 3);
    out['ClientSSLSecurityPFX'] = bufferOnly(real['ClientSSLSecurityPFX'] as new (...a: unknown[]) => unknown, 1);
    return out;
}

function isRemoteOrInline(location: unknown): boolean {
    return typeof location === 'string' && (/^https?:\/\//i.test(location) || /^<\?xml[^>]*?>/i.test(location));
}

function wsdlRefusal(url: unknown): Error | undefined {
    return isRemoteOrInline(url) ? undefined : new Error('soap: the WSDL must be an http(s) URL or inline XML; local files are not available to scripts');
}

/** Adds an import-location check to the options (wrapping the script's own override, if any). */
function withImportGuard(options: unknown): unknown {
    if (typeof options === 'function') return options; // createClient(url, callback): no options given
    const opts = (typeof options === 'object' && options !== null ? options : {}) as Mod;
    const wsdlOptions = (typeof opts['wsdl_options'] === 'object' && opts['wsdl_options'] !== null ? opts['wsdl_options'] : {}) as Mod;
    const own = wsdlOptions['overrideImportLocation'];
    const guard = (resolved: string, ...rest: unknown[]) => {
        const location = typeof own === 'function' ? (own as Fn)(resolved, ...rest) : resolved;
        if (!isRemoteOrInline(location)) throw new Error(`soap: WSDL import '${String(location).slice(0, 200)}' is not an http(s) URL`);
        return location;
    };
    return { ...opts, wsdl_options: { ...wsdlOptions, overrideImportLocation: guard } };
}

/** A subclass whose first `count` arguments must not be strings (soap reads a string there as a file path). */
function bufferOnly(Base: new (...a: unknown[]) => unknown, count: number): unknown {
    if (typeof Base !== 'function') return Base;
    return class extends (Base as new (...a: unknown[]) => object) {
        constructor(...args: unknown[]) {
            if (args.slice(0, count).some((a) => typeof a === 'string')) throw new Error('soap: pass key material as Buffers; file paths are not available to scripts');
            super(...args);
        }
    };
}
