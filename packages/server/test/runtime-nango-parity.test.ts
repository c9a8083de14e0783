// Issue #11: scripts shaped like Nango's public templates (as the official CLI compiles them) behave as on
// Nango's runner. Each case names the item of the issue it pins.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { Egress } from '../src/egress/egress.ts';
import { RunnerPool } from '../src/functions/runtime/pool.ts';
import type { ProxyConfig, ProxyResponse } from '../src/functions/runtime/sdk/http.ts';
import { paginate } from '../src/functions/runtime/sdk/paginate.ts';
import type { RunResult, ScriptKind, ScriptProps } from '../src/functions/runtime/types.ts';
import { fetchProxy, recordingHost, scriptProps, type RecordingHost } from './support/script-host.ts';
import { json, startUpstream } from './support/upstream.ts';

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];
const BYTES = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x80, 0x0a]);

const wsdl = (base: string) => `<?xml version="1.0" encoding="UTF-8"?>
<definitions name="Echo" targetNamespace="urn:echo" xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="urn:echo" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <message name="EchoRequest"><part name="text" type="xsd:string"/></message>
  <message name="EchoResponse"><part name="text" type="xsd:string"/></message>
  <portType name="EchoPort"><operation name="Echo"><input message="tns:EchoRequest"/><output message="tns:EchoResponse"/></operation></portType>
  <binding name="EchoBinding" type="tns:EchoPort">
    <soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="Echo"><soap:operation soapAction="urn:echo#Echo"/><input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
  </binding>
  <service name="EchoService"><port name="EchoPort" binding="tns:EchoBinding"><soap:address location="${base}/echo"/></port></service>
</definitions>`;

/** A zero-YAML bundle as `nango compile` emits it: CommonJS, the createX call rewritten to a plain object. */
function zeroYaml(type: 'action' | 'sync', exec: string, extra = ''): string {
    return `"use strict";\nvar import_zod = require("zod");\nmodule.exports.default = { type: "${type}", description: "t", version: "1.0.0", ${extra} exec: ${exec} };\n`;
}

function outputOf(r: RunResult): unknown {
    assert.equal(r.ok, true, `expected success, got ${JSON.stringify(r)}`);
    return (r as Extract<RunResult, { ok: true }>).output;
}

function errorOf(r: RunResult) {
    assert.equal(r.ok, false, `expected a failure, got ${JSON.stringify(r)}`);
    return (r as Extract<RunResult, { ok: false }>).error;
}

/** A zip archive with one stored (uncompressed) entry: the shape of the exports templates unzip. */
function storedZip(name: string, content: Buffer): Buffer {
    const fileName = Buffer.from(name);
    const crc = crc32(content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(content.length, 18);
    local.writeUInt32LE(content.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(content.length, 20);
    central.writeUInt32LE(content.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    const localSize = local.length + fileName.length + content.length;
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(central.length + fileName.length, 12);
    end.writeUInt32LE(localSize, 16);
    return Buffer.concat([local, fileName, content, central, fileName, end]);
}

describe('scripts behave as on Nango runner (issue #11)', () => {
    let upstream: Upstream;
    let other: Upstream;
    let pool: RunnerPool;
    let h: RecordingHost;
    const open = new Egress({ allowPrivate: true });
    const strict = new Egress({ allowPrivate: false });
    let seq = 0;

    const run = (kind: ScriptKind, code: string, input?: unknown, props: Partial<ScriptProps> = {}, host?: RecordingHost) => {
        h = host ?? recordingHost(upstream.url, { egress: open });
        return pool.run({ runId: `parity-${++seq}`, kind, code, input, props: scriptProps(kind, props), timeoutMs: 20_000 }, h.host);
    };
    const saved = () => h.calls.filter((c) => c.method === 'batchSave').flatMap((c) => (c.args[1] as Array<{ id: string }>).map((r) => r.id));

    before(async () => {
        other = await startUpstream((req, res) => json(res, 200, { path: req.url, authorization: req.headers.authorization ?? null }));
        upstream = await startUpstream((req, res) => {
            const url = new URL(req.url, 'http://x');
            const q = url.searchParams;
            if (url.pathname === '/me') return json(res, 200, { id: 'me-1' });
            if (url.pathname === '/v1.0/users') {
                // Microsoft Graph: the next page is an absolute URL under the literal key "@odata.nextLink".
                const skip = Number(q.get('$skiptoken') ?? 0);
                const top = Number(q.get('$top') ?? 2);
                const body: Record<string, unknown> = { '@odata.context': 'x', value: USERS.slice(skip, skip + top).map((id) => ({ id })) };
                if (skip + top < USERS.length) body['@odata.nextLink'] = `${upstream.url}/v1.0/users?$top=${top}&$skiptoken=${skip + top}`;
                return json(res, 200, body);
            }
            if (url.pathname === '/graphql') {
                // GraphQL: the page after the last one answers `nodes: null`.
                const body = JSON.parse(req.body) as { variables: { after?: string; first: number } };
                const start = Number(body.variables.after ?? 0);
                const nodes = start >= USERS.length ? null : USERS.slice(start, start + body.variables.first).map((id) => ({ id }));
                return json(res, 200, { data: { users: { nodes, pageInfo: { endCursor: String(start + body.variables.first) } } } });
            }
            if (url.pathname === '/search') {
                // A cursor under an array index, and a list under a key with a dot in it.
                const start = Number(q.get('after') ?? 0);
                return json(res, 200, {
                    'results.v2': USERS.slice(start, start + 2).map((id) => ({ id })),
                    paging: [{ next: start + 2 < USERS.length ? String(start + 2) : ' ' }]
                });
            }
            if (url.pathname === '/tickets') {
                // An offset API that omits the list once past the end.
                const offset = Number(q.get('offset'));
                return json(
                    res,
                    200,
                    offset >= USERS.length ? { total: USERS.length } : { total: USERS.length, tickets: USERS.slice(offset, offset + 2).map((id) => ({ id })) }
                );
            }
            if (url.pathname === '/file.pdf') {
                res.writeHead(200, { 'content-type': 'application/pdf' });
                return void res.end(BYTES);
            }
            if (url.pathname === '/export.zip') {
                res.writeHead(200, { 'content-type': 'application/zip' });
                return void res.end(storedZip('data.csv', Buffer.from('id,name\n1,Ada\n')));
            }
            if (url.pathname === '/contacts' && req.method === 'POST') {
                // A provider that answers JSON labelled as text, as some do on errors.
                res.writeHead(409, { 'content-type': 'text/plain' });
                return void res.end(JSON.stringify({ message: 'Contact already exists. Existing ID: 123' }));
            }
            if (url.pathname === '/text-error') {
                res.writeHead(400, { 'content-type': 'text/html' });
                return void res.end('<h1>Bad request</h1>');
            }
            if (url.pathname === '/wrapped-error') return json(res, 422, { payload: { reason: 'invalid email' } });
            if (url.pathname === '/service.wsdl') {
                res.writeHead(200, { 'content-type': 'text/xml' });
                return void res.end(wsdl(upstream.url));
            }
            if (url.pathname === '/echo' && req.method === 'POST') {
                const text = /<text>([^<]*)<\/text>/.exec(req.body)?.[1] ?? '';
                res.writeHead(200, { 'content-type': 'text/xml' });
                return void res.end(
                    `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><tns:EchoResponse xmlns:tns="urn:echo"><text>${text.toUpperCase()}</text></tns:EchoResponse></soap:Body></soap:Envelope>`
                );
            }
            if (url.pathname === '/download') {
                res.writeHead(302, { location: `${other.url}/signed?sig=1` });
                return void res.end();
            }
            return json(res, 404, { error: 'no route' });
        });
        pool = new RunnerPool({ size: 1, memoryMb: 256 });
    });
    after(async () => {
        await pool.close();
        await upstream.close();
        await other.close();
        await open.close();
        await strict.close();
    });

    it('item 1: a zero-YAML action called with {} receives {}; a legacy default function receives undefined', async () => {
        const exec = `async (nango, input) => {
            const params = {};
            if (input.fields) params.fields = input.fields.join(",");
            const res = await nango.get({ endpoint: "/me", params });
            return { id: res.data.id, received: input };
        }`;
        assert.deepEqual(outputOf(await run('action', zeroYaml('action', exec), {})), { id: 'me-1', received: {} });
        const legacy = `"use strict";\nmodule.exports.default = async function runAction(nango, input) { return { undefinedInput: input === undefined }; };`;
        assert.deepEqual(outputOf(await run('action', legacy, {})), { undefinedInput: true });
    });

    it('item 3: Microsoft Graph link pagination follows "@odata.nextLink" and saves every record', async () => {
        const exec = `async (nango) => {
            const config = { endpoint: "/v1.0/users", paginate: { type: "link", limit: 2, limit_name_in_request: "$top", link_path_in_response_body: "@odata.nextLink", response_path: "value" } };
            for await (const users of nango.paginate(config)) await nango.batchSave(users.map((u) => ({ id: u.id })), "Contact");
        }`;
        assert.equal(outputOf(await run('sync', zeroYaml('sync', exec, 'frequency: "every hour", models: {},'))), true);
        assert.deepEqual(saved(), USERS);
    });

    it('item 3: paths read as lodash get does: a literal dotted key, then an array index', async () => {
        const exec = `async (nango) => {
            const config = { endpoint: "/search", paginate: { type: "cursor", cursor_name_in_request: "after", cursor_path_in_response: "paging[0].next", response_path: "results.v2" } };
            for await (const page of nango.paginate(config)) await nango.batchSave(page, "Contact");
        }`;
        assert.equal(outputOf(await run('sync', zeroYaml('sync', exec, 'frequency: "every hour", models: {},'))), true);
        assert.deepEqual(saved(), USERS);
    });

    it('item 4: cursor pagination ends on a null GraphQL nodes list instead of failing the sync', async () => {
        const exec = `async (nango) => {
            const config = { endpoint: "/graphql", method: "POST", data: { query: "{ users }", variables: { first: 2 } },
                paginate: { type: "cursor", cursor_name_in_request: "variables.after", cursor_path_in_response: "data.users.pageInfo.endCursor", response_path: "data.users.nodes" } };
            for await (const nodes of nango.paginate(config)) await nango.batchSave(nodes, "Contact");
        }`;
        // The script's own body is kept around the cursor: `variables.first` must survive the merge.
        assert.equal(outputOf(await run('sync', zeroYaml('sync', exec, 'frequency: "every hour", models: {},'))), true);
        assert.deepEqual(saved(), USERS);
    });

    it('item 4: offset pagination ends when the API omits the list', async () => {
        const exec = `async (nango) => {
            const config = { endpoint: "/tickets", paginate: { type: "offset", offset_name_in_request: "offset", response_path: "tickets" } };
            for await (const page of nango.paginate(config)) await nango.batchSave(page, "Contact");
        }`;
        assert.equal(outputOf(await run('sync', zeroYaml('sync', exec, 'frequency: "every hour", models: {},'))), true);
        assert.deepEqual(saved(), USERS);
    });

    it('item 4: link pagination yields whatever it finds, a missing list included', async () => {
        const request = async (c: ProxyConfig): Promise<ProxyResponse> => {
            const r = await fetchProxy(upstream.url, { ...c, method: c.method ?? 'GET' });
            return { ...r, statusText: '', config: c };
        };
        const pages: unknown[] = [];
        const last: unknown[] = [];
        for await (const page of paginate(
            { endpoint: '/tickets', params: { offset: 4 }, paginate: { type: 'link', link_path_in_response_body: 'next', response_path: 'tickets' } },
            null,
            request
        ))
            pages.push(page);
        assert.deepEqual(pages, [[{ id: 'u5' }]]);
        for await (const page of paginate(
            { endpoint: '/tickets', params: { offset: 9 }, paginate: { type: 'link', link_path_in_response_body: 'next', response_path: 'tickets' } },
            null,
            request
        ))
            last.push(page);
        assert.deepEqual(last, [undefined]);
    });

    it('item 5: arraybuffer and blob responses are Node Buffers; stream responses are readable streams', async () => {
        const exec = `async (nango) => {
            const a = await nango.get({ endpoint: "/file.pdf", responseType: "arraybuffer" });
            const b = await nango.get({ endpoint: "/file.pdf", responseType: "blob" });
            const s = await nango.get({ endpoint: "/file.pdf", responseType: "stream" });
            const chunks = [];
            for await (const chunk of s.data) chunks.push(chunk);
            return { arraybuffer: Buffer.isBuffer(a.data), blob: Buffer.isBuffer(b.data), base64: a.data.toString("base64"), streamed: Buffer.concat(chunks).toString("base64") };
        }`;
        const out = outputOf(await run('action', zeroYaml('action', exec), {}));
        assert.deepEqual(out, { arraybuffer: true, blob: true, base64: BYTES.toString('base64'), streamed: BYTES.toString('base64') });
    });

    it('item 6: a caught provider error is the axios error Nango scripts get, and JSON bodies are parsed whatever their content type', async () => {
        const exec = `async (nango, input) => {
            try {
                await nango.post({ endpoint: "/contacts", data: input });
                return { created: true };
            } catch (error) {
                const message = error.response && error.response.data && error.response.data.message;
                if (error.response && error.response.status === 409 && typeof message === "string" && message.includes("already exists")) {
                    return { created: false, existingId: message.split("Existing ID: ")[1], errorMessage: error.message, name: error.name, code: error.code,
                        status: error.status, statusText: error.response.statusText, sentRequest: Boolean(error.request), isAxiosError: error.isAxiosError,
                        json: error.toJSON().message, endpoint: error.config.endpoint, isError: error instanceof Error };
                }
                throw error;
            }
        }`;
        assert.deepEqual(outputOf(await run('action', zeroYaml('action', exec), { email: 'a@b.test' })), {
            created: false,
            existingId: '123',
            errorMessage: 'Request failed with status code 409',
            name: 'AxiosError',
            code: 'ERR_BAD_REQUEST',
            status: 409,
            statusText: 'Conflict',
            sentRequest: true,
            isAxiosError: true,
            json: 'Request failed with status code 409',
            endpoint: '/contacts',
            isError: true
        });
    });

    it('item 6: an uncaught provider error is reported as Nango reports it: text bodies as {message}, a payload field unwrapped', async () => {
        const text = errorOf(await run('action', zeroYaml('action', `async (nango) => { await nango.get({ endpoint: "/text-error" }); }`), {}));
        assert.equal(text.type, 'script_http_error');
        assert.equal(text.status, 400);
        assert.deepEqual(text.payload, { message: '<h1>Bad request</h1>' });
        const wrapped = errorOf(await run('action', zeroYaml('action', `async (nango) => { await nango.get({ endpoint: "/wrapped-error" }); }`), {}));
        assert.deepEqual(wrapped.payload, { reason: 'invalid email' });
        assert.deepEqual((wrapped.additional_properties!['upstream_response'] as { body: unknown }).body, { reason: 'invalid email' });
    });

    it('item 7: uncontrolledFetch returns a fetch Response, follows redirects, drops credentials across origins, never sends the connection token', async () => {
        const exec = `async (nango, input) => {
            const res = await nango.uncontrolledFetch({ url: new URL(input.url), headers: { Authorization: "Bearer presigned" } });
            const body = await res.json();
            return { status: res.status, ok: res.ok, type: res.headers.get("content-type"), body, url: res.url, redirected: res.redirected };
        }`;
        const before = other.requests.length;
        const out = outputOf(await run('action', zeroYaml('action', exec), { url: `${upstream.url}/download` })) as Record<string, unknown>;
        assert.equal(out['status'], 200);
        assert.equal(out['ok'], true);
        assert.equal(out['url'], `${other.url}/signed?sig=1`);
        assert.equal(out['redirected'], true);
        assert.deepEqual(out['body'], { path: '/signed?sig=1', authorization: null }, 'the Authorization header did not follow the redirect to another origin');
        const first = upstream.requests.at(-1);
        assert.equal(first?.url, '/download');
        assert.equal(first?.headers.authorization, 'Bearer presigned', 'the script header reached the first origin');
        assert.equal(other.requests.length, before + 1);
        assert.ok(!JSON.stringify([...upstream.requests, ...other.requests].map((r) => r.headers)).includes('tok'), 'the connection token was never sent');
        assert.equal(
            h.calls.some((c) => c.method === 'getConnection'),
            false
        );
    });

    it('item 7: uncontrolledFetch goes through the egress policy: a private target is refused before any byte is sent', async () => {
        const exec = `async (nango, input) => {
            try {
                await nango.uncontrolledFetch({ url: new URL(input.url) });
                return { fetched: true };
            } catch (error) {
                return { fetched: false, type: error.type, payload: error.payload };
            }
        }`;
        const count = upstream.requests.length + other.requests.length;
        const host = recordingHost(upstream.url, { egress: strict });
        for (const url of [`${upstream.url}/me`, `${upstream.url.replace('127.0.0.1', 'localhost')}/me`, 'http://169.254.169.254/latest/meta-data']) {
            const out = outputOf(await run('action', zeroYaml('action', exec), { url }, {}, host));
            assert.deepEqual(
                out,
                {
                    fetched: false,
                    type: 'action_script_runtime_error',
                    payload: { code: 'url_not_allowed', message: 'This URL is not allowed by server configuration.' }
                },
                url
            );
        }
        assert.equal(upstream.requests.length + other.requests.length, count, 'no request reached the loopback servers');
        const uncaught = errorOf(
            await run('action', zeroYaml('action', `async (nango) => { await nango.uncontrolledFetch({ url: new URL("file:///etc/passwd") }); }`), {}, {}, host)
        );
        assert.equal(uncaught.type, 'action_script_runtime_error');
        assert.deepEqual(uncaught.payload, { code: 'url_not_allowed', message: 'This URL is not allowed by server configuration.' });
    });

    it('item 7: require("unzipper") reads an export downloaded as a Buffer; require("soap") is available', async () => {
        const exec = `async (nango) => {
            const unzipper = require("unzipper");
            const soap = require("soap");
            const res = await nango.get({ endpoint: "/export.zip", responseType: "arraybuffer" });
            const directory = await unzipper.Open.buffer(res.data);
            const file = directory.files.find((f) => f.path === "data.csv");
            const content = (await file.buffer()).toString("utf8");
            return { content, soap: typeof soap.createClientAsync };
        }`;
        assert.deepEqual(outputOf(await run('action', zeroYaml('action', exec), {})), { content: 'id,name\n1,Ada\n', soap: 'function' });
    });

    it('item 7: soap and unzipper reach neither the server disk nor a soap server of their own', async () => {
        // The runner process runs as the server's OS user, beside its data folder: what reads or writes files is left out.
        const exec = `async () => {
            const unzipper = require("unzipper");
            const soap = require("soap");
            const refused = async (fn) => { try { await fn(); return "allowed"; } catch (e) { return e.message; } };
            return {
                extract: typeof unzipper.Extract,
                openFile: typeof unzipper.Open.file,
                listen: typeof soap.listen,
                wsdlFile: await refused(() => soap.createClientAsync("/etc/passwd")),
                sslKeyFile: await refused(() => new soap.ClientSSLSecurity("/etc/passwd", "/etc/hosts")),
                sslKeyBuffer: await refused(() => new soap.ClientSSLSecurity(Buffer.from("k"), Buffer.from("c")))
            };
        }`;
        assert.deepEqual(outputOf(await run('action', zeroYaml('action', exec), {})), {
            extract: 'undefined',
            openFile: 'undefined',
            listen: 'undefined',
            wsdlFile: 'soap: the WSDL must be an http(s) URL or inline XML; local files are not available to scripts',
            sslKeyFile: 'soap: pass key material as Buffers; file paths are not available to scripts',
            sslKeyBuffer: 'allowed'
        });
    });

    it('item 7: a soap client fetches its WSDL and calls the service through the host, under the egress policy', async () => {
        const exec = `async (nango, input) => {
            const soap = require("soap");
            try {
                const client = await soap.createClientAsync(input.wsdl);
                const [result] = await client.EchoAsync({ text: "hi" });
                return { services: Object.keys(client.describe()), result };
            } catch (error) {
                return { failed: error.message };
            }
        }`;
        assert.deepEqual(outputOf(await run('action', zeroYaml('action', exec), { wsdl: `${upstream.url}/service.wsdl` })), {
            services: ['EchoService'],
            result: { text: 'HI' }
        });
        assert.deepEqual(
            h.calls.filter((c) => c.method === 'uncontrolledFetch').map((c) => (c.args[0] as { url: string; method: string }).method),
            ['GET', 'POST']
        );
        const count = upstream.requests.length;
        const refused = outputOf(
            await run('action', zeroYaml('action', exec), { wsdl: `${upstream.url}/service.wsdl` }, {}, recordingHost(upstream.url, { egress: strict }))
        ) as { failed: string };
        assert.match(refused.failed, /not allowed/);
        assert.equal(upstream.requests.length, count, 'no request reached the loopback server');
    });

    it("item 7: soap has no way around the host: its own HttpClient, a Client rebuilt from a client's constructor, NTLM", async () => {
        // The WSDL is inline, so only the calls below go out. Before this was closed, `new soap.HttpClient()` and a
        // Client built without createClient used soap's own axios (straight to the network), and NTLM always did.
        const exec = `async (nango, input) => {
            const soap = require("soap");
            const outcome = async (fn) => { try { await fn(); return "sent"; } catch (e) { return e.message; } };
            const client = await soap.createClientAsync(input.wsdl);
            const own = new soap.HttpClient({});
            const rebuilt = new client.constructor(client.wsdl, input.echo, {});
            return {
                withCallback: await outcome(() => new Promise((resolve, reject) => soap.createClient(input.wsdl, (err, c) => (err ? reject(err) : c.Echo({ text: "a" }, (e, r) => (e ? reject(e) : resolve(r))))))),
                ownHttpClient: await outcome(() => new Promise((resolve, reject) => own.request(input.echo, "<x/>", (err, res) => (err ? reject(err) : resolve(res))))),
                rebuiltClient: await outcome(() => rebuilt.EchoAsync({ text: "b" })),
                ntlmCall: await outcome(() => client.EchoAsync({ text: "c" }, { ntlm: true, username: "u", password: "p" })),
                ntlmSecurity: await outcome(() => { client.setSecurity(new soap.NTLMSecurity("u", "p")); return client.EchoAsync({ text: "d" }); }),
                ntlmWsdl: await outcome(() => soap.createClientAsync(input.wsdlUrl, { disableCache: true, wsdl_options: { ntlm: true, username: "u", password: "p" } }))
            };
        }`;
        const input = { wsdl: wsdl(upstream.url), wsdlUrl: `${upstream.url}/service.wsdl`, echo: `${upstream.url}/echo` };
        const ntlm = 'soap: NTLM authentication is not available to scripts (its requests could not go through the egress policy)';
        let count = upstream.requests.length;
        assert.deepEqual(outputOf(await run('action', zeroYaml('action', exec), input)), {
            withCallback: 'sent',
            ownHttpClient: 'sent',
            rebuiltClient: 'sent',
            ntlmCall: ntlm,
            ntlmSecurity: ntlm,
            ntlmWsdl: ntlm
        });
        // The two calls went through the host; the NTLM ones went nowhere.
        assert.deepEqual(
            h.calls.filter((c) => c.method === 'uncontrolledFetch').map((c) => (c.args[0] as { url: string }).url),
            [input.echo, input.echo, input.echo]
        );
        assert.equal(upstream.requests.length, count + 3);

        // Under a policy that refuses the loopback address, nothing reaches it, whichever way the script tries.
        count = upstream.requests.length;
        const refused = outputOf(await run('action', zeroYaml('action', exec), input, {}, recordingHost(upstream.url, { egress: strict }))) as Record<
            string,
            string
        >;
        assert.match(refused['withCallback']!, /not allowed/);
        assert.match(refused['ownHttpClient']!, /not allowed/);
        assert.match(refused['rebuiltClient']!, /not allowed/);
        assert.equal(refused['ntlmCall'], ntlm);
        assert.equal(upstream.requests.length, count, 'no request reached the loopback server');
    });
});
