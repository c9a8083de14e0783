/**
 * What `require('unzipper')` and `require('soap')` give a script: the parts that work on data in memory or over
 * HTTP, as templates use them (Nango's runner gives scripts no `fs`, so a template can only unzip a downloaded
 * Buffer or stream). The parts that read or write the server's disk are left out: the runner process runs as the
 * server's OS user, next to its data folder and key file.
 */

import Module from 'node:module';
import { Readable } from 'node:stream';
import type { HostFetchRequest, HostFetchResponse } from './types.ts';

type Mod = Record<string, unknown>;
type Fn = (...args: unknown[]) => unknown;
export type RunFetch = (req: HostFetchRequest) => Promise<HostFetchResponse>;

const facades = new Map<string, unknown>();
/** The active run's outbound fetch (the server's egress policy); a runner process runs one script at a time. */
let runFetch: RunFetch | undefined;

/** Called when a run's `nango` object is built: soap's HTTP goes through this run's host from then on. */
export function setRunFetch(fetch: RunFetch): void {
    runFetch = fetch;
}

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
 * must resolve to http(s), and the SSL security classes take key material as Buffers, not file paths. All its HTTP
 * (WSDL and calls) goes through the run's host, so the egress policy applies (routeThroughHost); NTLM is refused.
 */
function soapFacade(real: Mod): Mod {
    routeThroughHost(real['HttpClient'] as { prototype: object });
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
        // createClient(url, callback): no options were given, the callback is the second argument.
        if (typeof rest[0] === 'function') return createClient(url, safeOptions(undefined), ...rest);
        return createClient(url, safeOptions(rest[0]), ...rest.slice(1));
    };
    out['createClientAsync'] = async (url: unknown, options?: unknown, ...rest: unknown[]) => {
        const refused = wsdlRefusal(url);
        if (refused) throw refused;
        return createClientAsync(url, safeOptions(options), ...rest);
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

/** The script's options plus an import-location check (wrapping its own override, if any); the HTTP is routeThroughHost's. */
function safeOptions(options: unknown): unknown {
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

/**
 * soap's HTTP client calls an axios instance with an axios request config and reads `{status, headers, data}`
 * (it sets `validateStatus: null`, so every status resolves). This one sends the request through the run's host.
 */
async function soapRequest(config: Mod): Promise<Mod> {
    const fetch = runFetch;
    if (!fetch) throw new Error('soap: no run is active');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((config['headers'] ?? {}) as Mod)) if (v !== undefined && v !== null) headers[k] = String(v);
    const data = config['data'];
    const req: HostFetchRequest = { url: String(config['url']), method: String(config['method'] ?? 'GET').toUpperCase(), headers };
    if (typeof data === 'string') req.body = data;
    else if (data instanceof Uint8Array) req.body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else if (data !== undefined && data !== null) req.body = JSON.stringify(data);
    const res = await fetch(req);
    const body = Buffer.from(res.body.buffer, res.body.byteOffset, res.body.byteLength);
    const out: Record<string, string> = {};
    for (const [k, v] of res.headers) out[k] = out[k] === undefined ? v : `${out[k]}, ${v}`;
    const type = config['responseType'];
    const parsed = type === 'arraybuffer' ? body : type === 'stream' ? Readable.from([body]) : body.toString('utf8');
    return { status: res.status, statusText: res.statusText, headers: out, data: parsed, config, request: {} };
}

const NTLM_REFUSED = 'soap: NTLM authentication is not available to scripts (its requests could not go through the egress policy)';

const asksNtlm = (exoptions: unknown): boolean => typeof exoptions === 'object' && exoptions !== null && Boolean((exoptions as Mod)['ntlm']);

/**
 * Every soap HttpClient sends through the run's host, whoever made it: createClient's, one a script builds with
 * `new soap.HttpClient()`, and the one a Client builds for itself (`new client.constructor(…)` reaches soap's own
 * Client class, so wrapping the exports is not enough). soap's HttpClient sends every request and stream through
 * `this._request`, which its constructor sets to a fresh axios instance unless given one: on the prototype it is
 * an accessor that always answers soapRequest and drops what the constructor assigns. NTLM is the exception soap
 * makes: it sends through its own axios-ntlm client, whose handshake needs one connection for three messages and
 * so cannot go through the host; it is refused. Both properties are fixed (not writable, not configurable), so a
 * script cannot put the originals back. The runner process runs scripts only, so this holds for the whole process.
 */
function routeThroughHost(HttpClient: { prototype: object }): void {
    const proto = HttpClient.prototype as Mod;
    if (Object.getOwnPropertyDescriptor(proto, '_request')?.get) return;
    const request = proto['request'] as Fn;
    const requestStream = proto['requestStream'] as Fn;
    const refuse = (callback?: unknown): Promise<never> => {
        const err = new Error(NTLM_REFUSED);
        if (typeof callback === 'function') queueMicrotask(() => (callback as Fn)(err));
        const answer = Promise.reject(err);
        answer.catch(() => undefined);
        return answer;
    };
    Object.defineProperties(proto, {
        _request: { get: () => soapRequest, set: () => undefined, enumerable: false, configurable: false },
        request: {
            value(this: unknown, rurl: unknown, data: unknown, callback: unknown, exheaders: unknown, exoptions: unknown, ...rest: unknown[]) {
                return asksNtlm(exoptions) ? refuse(callback) : request.call(this, rurl, data, callback, exheaders, exoptions, ...rest);
            },
            writable: false,
            configurable: false
        },
        requestStream: {
            value(this: unknown, rurl: unknown, data: unknown, exheaders: unknown, exoptions: unknown, ...rest: unknown[]) {
                return asksNtlm(exoptions) ? refuse() : requestStream.call(this, rurl, data, exheaders, exoptions, ...rest);
            },
            writable: false,
            configurable: false
        }
    });
}

/** A subclass whose first `count` arguments must not be strings (soap reads a string there as a file path). */
function bufferOnly(Base: new (...a: unknown[]) => unknown, count: number): unknown {
    if (typeof Base !== 'function') return Base;
    return class extends (Base as new (...a: unknown[]) => object) {
        constructor(...args: unknown[]) {
            if (args.slice(0, count).some((a) => typeof a === 'string'))
                throw new Error('soap: pass key material as Buffers; file paths are not available to scripts');
            super(...args);
        }
    };
}

/**
 * unzipper's `Open` loads bluebird, which defines a property on the global `Error` as it loads; the runner's
 * intrinsics are frozen (--frozen-intrinsics), so that load throws. unzipper uses three bluebird helpers
 * (`props`, `map`, `mapSeries`): before unzipper is first required, its `require('bluebird')` is given those on
 * native promises. Concurrency options of `map` are not needed by unzipper's own calls.
 */
export function shimBluebirdForUnzipper(nodeRequire: NodeJS.Require): void {
    const fromUnzipper = Module.createRequire(nodeRequire.resolve('unzipper'));
    const path = fromUnzipper.resolve('bluebird');
    if (fromUnzipper.cache[path]) return;
    const shim = new Module(path);
    shim.filename = path;
    shim.loaded = true;
    shim.exports = Object.freeze({
        async props(obj: unknown): Promise<Record<string, unknown>> {
            const entries = Object.entries((await obj) as Record<string, unknown>);
            const values = await Promise.all(entries.map(([, v]) => v));
            return Object.fromEntries(entries.map(([k], i) => [k, values[i]]));
        },
        async map(list: unknown, fn: (v: unknown, i: number) => unknown): Promise<unknown[]> {
            const items = Array.from((await list) as ArrayLike<unknown>);
            return Promise.all(items.map(async (v, i) => fn(await v, i)));
        },
        async mapSeries(list: unknown, fn: (v: unknown, i: number) => unknown): Promise<unknown[]> {
            const items = Array.from((await list) as ArrayLike<unknown>);
            const out: unknown[] = [];
            for (let i = 0; i < items.length; i++) out.push(await fn(await items[i], i));
            return out;
        }
    });
    fromUnzipper.cache[path] = shim;
}
