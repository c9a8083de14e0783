// Catalogue quality (issue #15 item 5): every built-in entry is exercised the way an app would use it.
//
// - Every OAUTH2 entry drives a full authorization-code flow and a refresh against a real authorization server
//   (oidc-provider on loopback), with that entry's real paths, parameters, scope separator, PKCE choice, client
//   authentication method, body format and token response handling.
// - Every API_KEY and BASIC entry's header and query templates reach a loopback upstream through the proxy, as declared.
// - Every entry has a docs link and a category, and GET /providers lists them all (250+).
//
// How the provider hosts are mapped to loopback, with no test-only code in the server:
// the server already lets an operator file (SWITCHBOARD_PROVIDERS) replace a built-in entry by name. The test writes
// one such file holding a copy of every entry under test, resolved (aliases merged) and with ONLY the origin of each
// URL replaced by a loopback origin: `https://${connectionConfig.subdomain}.zendesk.com/oauth/tokens` becomes
// `http://127.0.0.1:PORT/oauth/tokens`. Paths, query strings, templates in the path and every other field stay as
// shipped. OAuth entries point at oidc-provider's own listener, which serves the path each entry declares for
// its authorization endpoint as oidc-provider's `/auth`, and its token and refresh paths as `/token` (a `beforeRequest`
// hook rewrites `req.url`; a JSON token body is parsed there and handed over as form parameters, since oidc-provider
// only reads forms). One origin for every endpoint keeps RFC 9207's `iss` check meaningful: the issuer oidc-provider
// announces is the origin the authorization request went to. Flows run four at a time: each entry's integration has a
// client id of its own (oidc-provider accepts them all, with one secret), by which the stand-in files every request
// under its entry; the test then asserts the entry's own paths were used, and that no request went anywhere else.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Nango } from '@nangohq/node';
import { stringify } from 'yaml';
import { loadCatalogue } from '../src/providers/catalogue.ts';
import type { ProviderDefinition } from '../src/providers/schema.ts';
import { startServer, writeProvidersFile, removeDir, type TestServer } from './support/server.ts';
import { startAuthServer, type TestAuthServer } from './support/oidc.ts';
import { CookieJar, hop, loginAndConsent, freePort } from './support/browserless.ts';
import { startUpstream, json } from './support/upstream.ts';
import { buildLogos, LOGOS_FILE } from '../scripts/build-logos.ts';
import { catalogueTable, documentedTable } from '../scripts/catalogue-table.ts';

const catalogue = loadCatalogue();
const all = catalogue.list();
const oauth2 = all.filter(([, d]) => d.auth_mode === 'OAUTH2');
const keyed = all.filter(([, d]) => d.auth_mode === 'API_KEY' || d.auth_mode === 'BASIC');
const clientCredentials = all.filter(([, d]) => d.auth_mode === 'OAUTH2_CC');

// ------------------------------------------------------------------------------------------------ templates
// A small evaluator for the template forms the catalogue uses, written apart from the server's interpolate.ts so the
// test states the expected values independently: ${name}, ${connectionConfig.x}, ${a || 'literal'}, ${base64(...)}.
interface Vars {
    connectionConfig: Record<string, string>;
    apiKey?: string;
    username?: string;
    password?: string;
    accessToken?: string;
    clientId?: string;
}

function closing(t: string, open: number): number {
    let depth = 0;
    for (let i = open; i < t.length; i++) {
        if (t.startsWith('${', i)) {
            depth++;
            i++;
        } else if (t[i] === '}' && --depth === 0) return i;
    }
    throw new Error(`unterminated template ${t}`);
}

function expand(t: string, v: Vars): string {
    let out = '';
    for (let i = 0; i < t.length; i++) {
        if (!t.startsWith('${', i)) {
            out += t[i];
            continue;
        }
        const end = closing(t, i);
        const expr = t.slice(i + 2, end).trim();
        i = end;
        if (expr.startsWith('base64(') && expr.endsWith(')')) {
            out += Buffer.from(expand(expr.slice(7, -1), v)).toString('base64');
            continue;
        }
        let value = '';
        for (const alt of expr.split('||').map((a) => a.trim())) {
            const literal = /^'(.*)'$|^"(.*)"$/.exec(alt);
            const got = literal
                ? (literal[1] ?? literal[2] ?? '')
                : alt.startsWith('connectionConfig.')
                  ? v.connectionConfig[alt.slice('connectionConfig.'.length)]
                  : (v as unknown as Record<string, string | undefined>)[alt];
            if (got) {
                value = got;
                break;
            }
        }
        out += value;
    }
    return out;
}

/** The template with its origin (scheme, host, port; placeholders included) replaced; path and query kept. */
function moveOrigin(template: string, origin: string): string {
    assert.ok(template.startsWith('https://'), `${template} is not an https URL`);
    for (let i = 'https://'.length; i < template.length; i++) {
        if (template.startsWith('${', i)) i = closing(template, i);
        else if (template[i] === '/' || template[i] === '?') return origin + template.slice(i);
    }
    return origin;
}

// ------------------------------------------------------------------------------------------------ entry inputs
/** A value for each field the end user types, from the field's example (which must match its pattern). */
function userConfig(name: string, def: ProviderDefinition): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, field] of Object.entries(def.connection_config ?? {})) {
        if (field.automated) continue;
        const value = field.example ?? (field.optional ? undefined : 'acme');
        if (value === undefined) continue;
        if (field.pattern) assert.match(value, new RegExp(field.pattern), `${name}: connection_config.${key} needs an example that matches its pattern`);
        out[key] = value;
    }
    return out;
}

/** A credential value that passes the field's pattern (Stripe's sk_ keys, Twilio's AC SIDs), else a recognisable one. */
function credentialValue(name: string, field: { pattern?: string | undefined } | undefined, fallback: string): string {
    if (!field?.pattern) return fallback;
    const re = new RegExp(field.pattern);
    const found = [fallback, 'sk_test_Catalogue0probe', `AC${'0123456789abcdef'.repeat(2)}`].find((c) => re.test(c));
    assert.ok(found, `${name}: no probe value matches the credential pattern ${field.pattern}`);
    return found;
}

const bracket = (prefix: string, map: Record<string, string>) =>
    Object.entries(map)
        .map(([k, v]) => `&${prefix}[${encodeURIComponent(k)}]=${encodeURIComponent(v)}`)
        .join('');

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
    const parts = path.split('.');
    let at = obj;
    for (const part of parts.slice(0, -1)) {
        if (typeof at[part] !== 'object' || at[part] === null) at[part] = {};
        at = at[part] as Record<string, unknown>;
    }
    at[parts.at(-1)!] = value;
}

const META_VALUE = 'https://meta.example.com';

// ------------------------------------------------------------------------------------------------ the stand-in
interface TokenCall {
    path: string;
    query: string;
    contentType: string;
    basic: boolean;
    params: Record<string, string>;
}
interface Endpoints {
    authPath: string;
    tokenPath: string;
    refreshPath: string;
}
interface Flow extends Endpoints {
    def: ProviderDefinition;
    authorizeRequests: Array<{ path: string; query: URLSearchParams }>;
    tokenCalls: TokenCall[];
}

/** Each OAUTH2 entry's integration has its own OAuth client id, so concurrent flows can be told apart. */
const clientIdOf = (name: string) => `catalogue--${name}`;

/** The paths an entry's endpoints have once its connection config is filled in (origins do not matter here). */
function endpointsOf(name: string, def: ProviderDefinition): Endpoints {
    const vars: Vars = { connectionConfig: userConfig(name, def) };
    const pathOf = (t: string) => new URL(expand(moveOrigin(t, 'http://stand-in'), vars)).pathname;
    return {
        authPath: pathOf(def.authorization_url!),
        tokenPath: pathOf(def.token_url as string),
        refreshPath: pathOf(def.refresh_url ?? (def.token_url as string))
    };
}
const endpoints = new Map(oauth2.map(([name, def]) => [name, endpointsOf(name, def)]));
const authPaths = new Set([...endpoints.values()].map((e) => e.authPath));
const tokenPaths = new Set([...endpoints.values()].flatMap((e) => [e.tokenPath, e.refreshPath]));

async function pool<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
        Array.from({ length: size }, async () => {
            while (next < items.length) await run(items[next++]!);
        })
    );
}

// Authorization parameters that mean something else to an OpenID provider: `request` is a request object there, while
// BambooHR's own `request=authorize` only names the action. Recorded as sent, then hidden from oidc-provider.
const FOREIGN_AUTHORIZATION_PARAMS = ['request'];

async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
}

describe('built-in catalogue', () => {
    let as: TestAuthServer;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let server: TestServer;
    let nango: Nango;
    let publicUrl: string;
    const flows = new Map<string, Flow>(); // by client id
    const flowOfRequest = new WeakMap<IncomingMessage, Flow>();
    const stray: string[] = [];
    const originalWarn = console.warn;

    before(async () => {
        // oidc-provider warns once that a body arrived already parsed; that is this test's doing (see the header).
        console.warn = (...args: unknown[]) => {
            if (typeof args[0] === 'string' && args[0].includes('already parsed request body')) return;
            originalWarn.apply(console, args);
        };
        const port = await freePort();
        publicUrl = `http://127.0.0.1:${port}`;
        as = await startAuthServer({
            redirectUri: `${publicUrl}/oauth/callback`,
            pkceRequired: false,
            acceptClientId: (id) => id.startsWith('catalogue--'),
            // Every scope value an entry asks for, as oidc-provider splits them (on spaces), so consent can grant them.
            extraScopes: oauth2.flatMap(([, d]) =>
                (d.default_scopes?.length ?? 0) < 2 ? ['openid,email'] : d.default_scopes!.join(d.scope_separator).split(' ')
            ),
            beforeRequest: async (req) => {
                const url = new URL(req.url ?? '/', 'http://stand-in');
                if (req.method === 'GET' && authPaths.has(url.pathname)) {
                    const flow = flows.get(url.searchParams.get('client_id') ?? '');
                    if (flow) flow.authorizeRequests.push({ path: url.pathname, query: new URLSearchParams(url.searchParams) });
                    else stray.push(`GET ${url.pathname} for client ${url.searchParams.get('client_id')}`);
                    for (const p of FOREIGN_AUTHORIZATION_PARAMS) url.searchParams.delete(p);
                    req.url = `/auth${url.search}`;
                    return;
                }
                if (req.method === 'POST' && tokenPaths.has(url.pathname)) {
                    const raw = await readBody(req);
                    const contentType = String(req.headers['content-type'] ?? '');
                    const parsed: Record<string, unknown> = contentType.includes('json') ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
                    const params = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
                    const authorization = String(req.headers.authorization ?? '');
                    const basic = authorization.startsWith('Basic ');
                    // RFC 6749 §2.3.1: the Basic user is the form-encoded client id.
                    const basicUser = basic
                        ? decodeURIComponent(Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':')[0] ?? '')
                        : undefined;
                    const flow = flows.get(basicUser ?? params['client_id'] ?? '');
                    if (flow) {
                        flow.tokenCalls.push({ path: url.pathname, query: url.search, contentType, basic, params });
                        flowOfRequest.set(req, flow);
                    } else stray.push(`POST ${url.pathname} for an unknown client`);
                    req.body = params;
                    req.headers['content-type'] = 'application/x-www-form-urlencoded';
                    req.url = '/token';
                    return;
                }
                // oidc-provider's own login pages and the resumed authorization (/auth/<uid>) pass through.
                if (url.pathname.startsWith('/interaction/') || (req.method === 'GET' && url.pathname.startsWith('/auth/'))) return;
                stray.push(`${req.method} ${url.pathname}`);
            },
            // The provider-specific parts of a token answer: the nested token some providers use and the fields the
            // entry copies into connection config.
            shapeTokenResponse: (body, req) => {
                const def = flowOfRequest.get(req)?.def;
                if (!def) return body;
                const out = structuredClone(body);
                if (def.alternate_access_token_response_path) setPath(out, def.alternate_access_token_response_path, body['access_token']);
                for (const key of def.token_response_metadata ?? []) setPath(out, key, META_VALUE);
                return out;
            }
        });
        // The upstream also plays the token endpoint of the OAUTH2_CC entries: any POST that is not a probe.
        upstream = await startUpstream((req, res) =>
            req.method === 'POST'
                ? json(res, 200, { access_token: `cc-token-${upstream.requests.length}`, token_type: 'Bearer', expires_in: 3600 })
                : json(res, 200, { ok: true })
        );

        // The operator file: every entry under test, resolved, origins moved to loopback (see the header).
        const local: Record<string, Record<string, unknown>> = {};
        for (const [name, def] of oauth2) {
            const copy = structuredClone(def) as Record<string, unknown> & ProviderDefinition;
            delete copy.alias;
            // Post-connection hooks call the provider's API after the grant; they are tested on their own.
            delete copy.post_connection_script;
            copy.authorization_url = moveOrigin(def.authorization_url!, as.issuer);
            copy.token_url = moveOrigin(def.token_url as string, as.issuer);
            if (def.refresh_url) copy.refresh_url = moveOrigin(def.refresh_url, as.issuer);
            if (def.revocation_url) copy.revocation_url = moveOrigin(def.revocation_url, as.issuer);
            local[name] = copy;
        }
        for (const [name, def] of keyed) {
            const copy = structuredClone(def) as Record<string, unknown> & ProviderDefinition;
            delete copy.alias;
            assert.ok(def.proxy?.base_url, `${name} has a proxy.base_url`);
            copy.proxy = { ...def.proxy, base_url: moveOrigin(def.proxy.base_url, upstream.url) };
            local[name] = copy;
        }
        for (const [name, def] of clientCredentials) {
            const copy = structuredClone(def) as Record<string, unknown> & ProviderDefinition;
            delete copy.alias;
            assert.ok(def.proxy?.base_url, `${name} has a proxy.base_url`);
            copy.token_url = moveOrigin(def.token_url as string, upstream.url);
            copy.proxy = { ...def.proxy, base_url: moveOrigin(def.proxy.base_url, upstream.url) };
            local[name] = copy;
        }
        server = await startServer({ PORT: String(port), SWITCHBOARD_SERVER_URL: publicUrl, SWITCHBOARD_PROVIDERS: writeProvidersFile(stringify(local)) });
        nango = new Nango({ host: server.url, secretKey: server.secretKey });
    });
    after(async () => {
        console.warn = originalWarn;
        await server?.stop();
        await as?.close();
        await upstream?.close();
        if (server) removeDir(server.dataDir);
    });

    it('every entry has a docs link and a category; GET /providers lists the whole catalogue (250+)', async () => {
        for (const [name, def] of all) {
            assert.ok(def.docs?.startsWith('https://'), `${name} has no docs link`);
            assert.ok(def.categories && def.categories.length > 0, `${name} has no category`);
        }
        assert.ok(all.length >= 250, `only ${all.length} built-in providers`);
        assert.equal(documentedTable(), catalogueTable(), 'docs/providers.md: run `node scripts/catalogue-table.ts --write`');
        const res = await fetch(`${server.url}/providers`, { headers: { authorization: `Bearer ${server.secretKey}` } });
        assert.equal(res.status, 200);
        const listed = ((await res.json()) as { data: Array<{ name: string }> }).data.map((p) => p.name);
        assert.deepEqual(
            listed,
            all.map(([name]) => name)
        );
    });

    it('logos: logos.json is what Simple Icons publishes; the brand icon is served, else the monogram', async () => {
        const committed = JSON.parse(readFileSync(LOGOS_FILE, 'utf8')) as Record<string, { hex: string; path: string; title: string }>;
        assert.deepEqual(committed, await buildLogos(), 'run `node scripts/build-logos.ts` after changing the catalogue');
        assert.ok(Object.keys(committed).length >= 140, `only ${Object.keys(committed).length} brand logos`);

        const get = (name: string) => fetch(`${server.url}/images/template-logos/${name}.svg`);
        const stripe = await get('stripe');
        assert.equal(stripe.status, 200);
        assert.match(stripe.headers.get('content-type') ?? '', /^image\/svg\+xml/);
        const svg = await stripe.text();
        assert.ok(svg.includes(`d="${committed['stripe']!.path}"`), 'the Simple Icons path');
        assert.ok(svg.includes(`fill="#${committed['stripe']!.hex}"`), 'on the brand colour');
        assert.ok(svg.includes('<title>Stripe</title>'));

        // Simple Icons has no Salesforce icon: the monogram, as before.
        assert.equal(committed['salesforce'], undefined);
        const monogram = await (await get('salesforce')).text();
        assert.match(monogram, /<text[^>]*>S<\/text>/);
        assert.doesNotMatch(monogram, /<path/);
        assert.equal((await get('no-such-provider')).status, 404);

        // The Connect UI reads logo_url from GET /providers; it points at this route.
        const res = await fetch(`${server.url}/providers?search=stripe`, { headers: { authorization: `Bearer ${server.secretKey}` } });
        const stripeEntry = ((await res.json()) as { data: Array<{ name: string; logo_url: string }> }).data.find((p) => p.name === 'stripe');
        assert.equal(stripeEntry?.logo_url, `${publicUrl}/images/template-logos/stripe.svg`);
    });

    it(`every OAUTH2 entry (${oauth2.length}) completes a code flow and a refresh with its own paths, parameters and client authentication`, async () => {
        const failures: string[] = [];
        await pool(oauth2, 4, async ([name, def]) => {
            try {
                await flow(name, def);
            } catch (err) {
                failures.push(`${name}: ${(err as Error).message.split('\n').slice(0, 6).join(' | ')}`);
            }
        });
        assert.deepEqual(failures.sort(), []);
        assert.deepEqual(stray, [], 'no request reached the stand-in outside the entries’ declared endpoints');
    });

    async function flow(name: string, def: ProviderDefinition): Promise<void> {
        const config = userConfig(name, def);
        const vars: Vars = { connectionConfig: config };
        const c: Flow = { ...endpoints.get(name)!, def, authorizeRequests: [], tokenCalls: [] };
        flows.set(clientIdOf(name), c);

        // An entry without default scopes gets two from the integration, so the separator is always exercised.
        const ownScopes = (def.default_scopes?.length ?? 0) < 2;
        await nango.createIntegration({
            provider: name,
            unique_key: name,
            credentials: { type: 'OAUTH2', client_id: clientIdOf(name), client_secret: as.clientSecret, ...(ownScopes ? { scopes: 'openid,email' } : {}) }
        });
        const token = (await nango.createConnectSession({ end_user: { id: `eu-${name}` }, allowed_integrations: [name] })).data.token;
        const jar = new CookieJar();
        const start = await hop(jar, `${publicUrl}/oauth/connect/${name}?connect_session_token=${token}${bracket('params', config)}`);
        const startBody = await start.text();
        assert.equal(start.status, 302, `connect answered ${start.status}: ${startBody.slice(0, 300)}`);
        const authorize = new URL(start.headers.get('location') ?? '');
        assert.equal(authorize.origin, as.issuer);
        assert.equal(authorize.pathname, c.authPath, 'the authorization request goes to the entry’s path');

        // What the entry declares is what the provider receives.
        const q = authorize.searchParams;
        const scopes = ownScopes ? ['openid', 'email'] : def.default_scopes!;
        assert.equal(q.get('scope'), scopes.join(def.scope_separator), 'scopes joined with the entry’s separator');
        for (const [k, v] of Object.entries(def.authorization_params ?? {})) assert.equal(q.get(k), expand(v, vars), `authorization_params.${k}`);
        assert.equal(q.get('code_challenge_method'), def.disable_pkce ? null : 'S256', 'PKCE as the entry says');
        assert.equal(q.get('redirect_uri'), `${publicUrl}/oauth/callback`);

        const callback = await loginAndConsent(authorize.href, `user-${name}`);
        assert.deepEqual(
            c.authorizeRequests.map((r) => r.path),
            [c.authPath],
            'the provider saw exactly one authorization request, at the entry’s path'
        );
        assert.equal(callback.origin + callback.pathname, `${publicUrl}/oauth/callback`);
        // Values the provider adds to the redirect (QuickBooks' realmId).
        for (const key of def.redirect_uri_metadata ?? []) callback.searchParams.set(key, '4620816365');
        const page = await hop(jar, callback.href);
        const html = await page.text();
        assert.equal(
            page.status,
            200,
            html
                .replace(/<style[\s\S]*?<\/style>/, '')
                .replace(/<[^>]+>/g, ' ')
                .replace(/\s+/g, ' ')
                .slice(0, 400)
        );
        assert.doesNotMatch(html, /"type":"error"|callback_err|token_err/, 'the callback page reports success');

        // The code exchange: the entry's path, body format and client authentication.
        assert.equal(c.tokenCalls.length, 1, 'one token request');
        const exchange = c.tokenCalls[0]!;
        checkTokenCall(def, exchange, c.tokenPath, 'authorization_code', def.token_params ?? {}, vars);

        const list = await nango.listConnections({ endUserId: `eu-${name}` } as never);
        const connectionId = list.connections.find((x) => x.provider_config_key === name)?.connection_id;
        assert.ok(connectionId, 'the connection is saved');
        const conn = await nango.getConnection(name, connectionId);
        const creds = conn.credentials as { type: string; access_token: string; refresh_token?: string };
        assert.equal(creds.type, 'OAUTH2');
        assert.ok(await as.isAccessTokenActive(creds.access_token), 'the stored access token is the one the provider issued');
        for (const key of def.token_response_metadata ?? []) {
            assert.equal((conn.connection_config as Record<string, unknown>)[key], META_VALUE, `token_response_metadata ${key} kept`);
        }
        for (const key of def.redirect_uri_metadata ?? []) assert.equal((conn.connection_config as Record<string, unknown>)[key], '4620816365');

        // A forced refresh: the entry's refresh path and parameters, the same client authentication, a new token kept.
        const refreshed = await nango.getConnection(name, connectionId, true);
        const after = (refreshed.credentials as { access_token: string }).access_token;
        assert.equal(c.tokenCalls.length, 2, 'one refresh request');
        checkTokenCall(def, c.tokenCalls[1]!, c.refreshPath, 'refresh_token', def.refresh_params ?? def.token_params ?? {}, vars);
        assert.notEqual(after, creds.access_token, 'the refresh stored a new access token');
        assert.ok(await as.isAccessTokenActive(after));
    }

    function checkTokenCall(def: ProviderDefinition, call: TokenCall, path: string, grant: string, params: Record<string, string>, vars: Vars): void {
        assert.equal(call.path, path, `${grant}: the entry’s token path`);
        const declared = new URL(expand(grant === 'refresh_token' ? (def.refresh_url ?? (def.token_url as string)) : (def.token_url as string), vars)).search;
        assert.equal(call.query, declared, `${grant}: the token URL's own query string is kept`);
        assert.equal(call.params['grant_type'], grant);
        assert.match(call.contentType, def.body_format === 'json' ? /application\/json/ : /application\/x-www-form-urlencoded/, `${grant}: body format`);
        const basic = def.token_request_auth_method === 'basic';
        assert.equal(call.basic, basic, `${grant}: client authentication ${basic ? 'in a Basic header' : 'in the body'}`);
        assert.equal(call.params['client_secret'] !== undefined, !basic, `${grant}: the secret is sent exactly one way`);
        for (const [k, v] of Object.entries(params)) {
            if (k === 'grant_type') continue;
            assert.equal(call.params[k], expand(v, vars), `${grant}: token parameter ${k}`);
        }
    }

    it(`every API_KEY and BASIC entry (${keyed.length}) has its header and query templates applied by the proxy`, async () => {
        const failures: string[] = [];
        for (const [name, def] of keyed) {
            try {
                await probe(name, def);
            } catch (err) {
                failures.push(`${name}: ${(err as Error).message.split('\n').slice(0, 6).join(' | ')}`);
            }
        }
        assert.deepEqual(failures, []);
    });

    it(`every OAUTH2_CC entry (${clientCredentials.length}) obtains its token at its own path with its parameters, then proxies with it`, async () => {
        const failures: string[] = [];
        for (const [name, def] of clientCredentials) {
            try {
                await machine(name, def);
            } catch (err) {
                failures.push(`${name}: ${(err as Error).message.split('\n').slice(0, 6).join(' | ')}`);
            }
        }
        assert.deepEqual(failures, []);
    });

    async function machine(name: string, def: ProviderDefinition): Promise<void> {
        const config = userConfig(name, def);
        const vars: Vars = { connectionConfig: config };
        await nango.createIntegration({ provider: name, unique_key: name });
        const created = await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
                provider_config_key: name,
                connection_id: `m2m-${name}`,
                credentials: { type: 'OAUTH2_CC', client_id: `id-${name}`, client_secret: `secret-${name}` },
                connection_config: config
            })
        });
        assert.equal(created.status, 201, await created.text());
        const before = upstream.requests.length;
        const res = await fetch(`${server.url}/proxy/catalogue-probe`, {
            headers: { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': name, 'connection-id': `m2m-${name}` }
        });
        assert.equal(res.status, 200, await res.text());
        const [token, call, ...rest] = upstream.requests.slice(before);
        assert.equal(rest.length, 0, 'one token request, then the proxied call');
        assert.ok(token && call);
        const declared = new URL(expand(moveOrigin(def.token_url as string, upstream.url), vars));
        assert.equal(token.method, 'POST');
        assert.equal(token.url, declared.pathname + declared.search, 'the entry’s token path');
        const form = Object.fromEntries(new URLSearchParams(token.body));
        assert.equal(form['grant_type'], 'client_credentials');
        for (const [k, v] of Object.entries(def.token_params ?? {})) assert.equal(form[k], expand(v, vars), `token parameter ${k}`);
        const basic = def.token_request_auth_method === 'basic';
        assert.equal(
            token.headers.authorization,
            basic ? `Basic ${Buffer.from(`id-${name}:secret-${name}`).toString('base64')}` : undefined,
            'client authentication'
        );
        assert.equal(form['client_secret'], basic ? undefined : `secret-${name}`);
        const basePath = new URL(expand(moveOrigin(def.proxy!.base_url!, upstream.url), vars)).pathname.replace(/\/+$/, '');
        assert.equal(new URL(call.url, upstream.url).pathname, `${basePath}/catalogue-probe`);
        assert.equal(call.headers.authorization, `Bearer cc-token-${before + 1}`, 'the proxied call carries the token just issued');
    }

    async function probe(name: string, def: ProviderDefinition): Promise<void> {
        const config = userConfig(name, def);
        const fields = def.credentials ?? {};
        const credentials: Record<string, string> =
            def.auth_mode === 'API_KEY'
                ? { type: 'API_KEY', apiKey: credentialValue(name, fields['apiKey'], `key-${name}`) }
                : {
                      type: 'BASIC',
                      username: credentialValue(name, fields['username'], `user-${name}`),
                      password: credentialValue(name, fields['password'], `pass:${name}`)
                  };
        const vars: Vars = { connectionConfig: config, ...credentials };
        await nango.createIntegration({ provider: name, unique_key: name });
        const created = await fetch(`${server.url}/connections`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server.secretKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ provider_config_key: name, connection_id: `conn-${name}`, credentials, connection_config: config })
        });
        assert.equal(created.status, 201, await created.text());

        const before = upstream.requests.length;
        const res = await fetch(`${server.url}/proxy/catalogue-probe?page=2`, {
            headers: { authorization: `Bearer ${server.secretKey}`, 'provider-config-key': name, 'connection-id': `conn-${name}` }
        });
        assert.equal(res.status, 200, await res.text());
        const got = upstream.requests.slice(before);
        assert.equal(got.length, 1, 'one request reached the provider');
        const req = got[0]!;
        const target = new URL(req.url, upstream.url);
        const basePath = new URL(expand(moveOrigin(def.proxy!.base_url!, upstream.url), vars)).pathname.replace(/\/+$/, '');
        assert.equal(target.pathname, `${basePath}/catalogue-probe`, 'the base URL’s path is kept');
        assert.equal(target.searchParams.get('page'), '2');

        const headers = Object.fromEntries(Object.entries(def.proxy?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), expand(v, vars)]));
        for (const [k, v] of Object.entries(headers)) assert.equal(req.headers[k], v, `header ${k} as declared`);
        for (const [k, v] of Object.entries(def.proxy?.query ?? {})) assert.equal(target.searchParams.get(k), expand(v, vars), `query ${k} as declared`);
        if (def.auth_mode === 'BASIC' && headers['authorization'] === undefined) {
            assert.equal(
                req.headers.authorization,
                `Basic ${Buffer.from(`${credentials['username']}:${credentials['password']}`).toString('base64')}`,
                'BASIC default header'
            );
        }
        if (def.auth_mode === 'API_KEY') {
            const templates = [...Object.values(def.proxy?.headers ?? {}), ...Object.values(def.proxy?.query ?? {})];
            assert.ok(
                templates.some((t) => t.includes('apiKey')),
                'the entry declares where the API key goes'
            );
        }
        // Never the app's own secret key, never to another host.
        assert.ok(!String(req.headers.authorization ?? '').includes(server.secretKey), 'the Switchboard secret key does not reach the provider');
    }
});
