// Issue #16 item 3: the OpenAPI 3.1 document, generated from the route table. It holds every route, every documented
// error code, validates with @readme/openapi-parser (the OpenAPI 3.1 schema plus the rules a schema cannot say: path
// parameters declared, operation ids unique), and every request the official Node SDK makes matches one of its operations.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validate } from '@readme/openapi-parser';
import { Nango } from '@nangohq/node';
import { routeTable } from '../src/routes.ts';
import { errorCodes } from '../src/errors.ts';
import { openApiDocument, openApiPath, OTHER_METHODS_EXTENSION } from '../src/http/openapi.ts';
import { startServer, removeDir, type TestServer } from './support/server.ts';

interface Operation {
    operationId: string;
    security: Array<Record<string, string[]>>;
    parameters: Array<{ name: string; in: string }>;
    responses: Record<string, unknown>;
}
interface Doc {
    openapi: string;
    paths: Record<string, Record<string, Operation | string[]>>;
    components: { schemas: { ErrorCode: { oneOf: Array<{ const: string }> } }; securitySchemes: Record<string, unknown> };
}

const doc = openApiDocument(routeTable, '0.0.0-test') as unknown as Doc;

function operation(method: string, path: string): Operation | undefined {
    const op = doc.paths[path]?.[method.toLowerCase()];
    return op && !Array.isArray(op) ? op : undefined;
}

/** The operation a concrete request lands on: the template whose segments match (a `{param}` takes one segment, `{endpoint}` the rest). */
function matchOperation(method: string, path: string): string | undefined {
    for (const template of Object.keys(doc.paths)) {
        const pattern = `^${template
            .split(/(\{[^}]+\})/)
            .map((part) => (part === '{endpoint}' ? '.+' : part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
            .join('')}$`;
        if (new RegExp(pattern).test(path) && operation(method, template)) return `${method} ${template}`;
    }
    return undefined;
}

it('every route of the table is an operation of the document (or, for a method OpenAPI 3.1 cannot name, listed on its path)', () => {
    assert.equal(doc.openapi, '3.1.1');
    let operations = 0;
    for (const def of routeTable) {
        const methods = Array.isArray(def.method) ? def.method : [def.method];
        const urls = Array.isArray(def.url) ? def.url : [def.url];
        for (const url of urls) {
            for (const method of methods) {
                const path = openApiPath(url);
                if (method === 'PROPFIND' || method === 'REPORT') {
                    assert.ok((doc.paths[path]?.[OTHER_METHODS_EXTENSION] as string[] | undefined)?.includes(method), `${method} ${url}`);
                    continue;
                }
                const op = operation(method, path);
                assert.ok(op, `${method} ${url} is missing from the document`);
                operations++;
            }
        }
    }
    // The count of operations in the document equals the table's: nothing invented.
    const inDoc = Object.values(doc.paths).flatMap((item) => Object.entries(item).filter(([k]) => !k.startsWith('x-'))).length;
    assert.equal(inDoc, operations);
    assert.ok(operations > 90, `only ${operations} operations`);
});

it('every documented error code appears in the document, with its status', () => {
    const documented = [...readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8').matchAll(/^\| `([a-z0-9_]+)` \| (\d{3}) \|/gm)];
    assert.ok(documented.length >= Object.keys(errorCodes).length);
    const inDoc = new Map(doc.components.schemas.ErrorCode.oneOf.map((c) => [c.const, c as { const: string; 'x-status': number }]));
    for (const [, code, status] of documented) {
        assert.ok(inDoc.has(code!), `${code} is not in the document`);
        assert.equal(inDoc.get(code!)!['x-status'], Number(status), code);
    }
});

it('each auth mode maps to its security scheme, and the errors its authentication answers with are listed', () => {
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), [
        'adminEnvironment',
        'adminKey',
        'agentToken',
        'connectSessionQuery',
        'connectSessionToken',
        'dashboardSession',
        'publicKey',
        'secretKey'
    ]);
    assert.deepEqual(operation('GET', '/dashboard/api/runs')!.security, [{ dashboardSession: [], adminEnvironment: [] }]);
    assert.match(JSON.stringify(operation('DELETE', '/dashboard/api/session')!.responses['403']), /dashboard_csrf_failed/);
    assert.deepEqual(operation('GET', '/connections')!.security, [{ secretKey: [] }]);
    assert.deepEqual(operation('GET', '/admin/environments')!.security, [{ adminKey: [] }]);
    assert.deepEqual(operation('GET', '/admin/audit')!.security, [{ secretKey: [] }, { adminKey: [], adminEnvironment: [] }]);
    assert.deepEqual(operation('GET', '/connect/session')!.security, [{ connectSessionToken: [] }]);
    assert.deepEqual(operation('GET', '/oauth/connect/{providerConfigKey}')!.security, [{ connectSessionQuery: [] }, { publicKey: [] }]);
    assert.deepEqual(operation('GET', '/health')!.security, []);
    assert.deepEqual(operation('POST', '/mcp')!.security, [{ secretKey: [] }, { agentToken: [] }]);
    assert.match(JSON.stringify(operation('POST', '/mcp')!.responses['401']), /agent_token_expired/);
    assert.match(JSON.stringify(operation('GET', '/connections')!.responses['401']), /unknown_account/);
    assert.match(JSON.stringify(operation('GET', '/admin/environments')!.responses['403']), /admin_key_required/);
    assert.ok(
        operation('GET', '/proxy/{endpoint}')!.parameters.some((p) => p.in === 'header' && p.name === 'connection-id'),
        'the proxy headers are parameters'
    );
});

it('the document validates against OpenAPI 3.1 (@readme/openapi-parser), without warnings', async () => {
    const result = await validate(structuredClone(doc) as unknown as Parameters<typeof validate>[0]);
    assert.deepEqual(result, { valid: true, warnings: [], specification: 'OpenAPI' });
    // The validator is not a rubber stamp: a path parameter without its declaration fails.
    const broken = structuredClone(doc) as unknown as Doc;
    (broken.paths['/connections/{connectionId}']!['get'] as Operation).parameters = [];
    const refused = await validate(broken as unknown as Parameters<typeof validate>[0]);
    assert.equal(refused.valid, false);
});

describe('the official Node SDK', () => {
    let recorder: Server;
    const calls: Array<{ method: string; path: string }> = [];
    let nango: Nango;

    before(async () => {
        // A stand-in that records each request and answers `{}`: the SDK's own parsing of the answer may then fail,
        // but the request it made is what is checked.
        recorder = createServer((req, res) => {
            calls.push({ method: req.method!, path: new URL(req.url!, 'http://x').pathname });
            res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
        await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
        nango = new Nango({ host: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`, secretKey: 'sk' });
    });
    after(() => new Promise<void>((r) => recorder.close(() => r())));

    // One call per SDK method that talks to the server; a new SDK method fails the test until it is listed here.
    const invocations: Record<string, (n: Nango) => Promise<unknown>> = {
        listProviders: (n) => n.listProviders({}),
        getProvider: (n) => n.getProvider({ provider: 'github' }),
        getProviderTemplates: (n) => n.getProviderTemplates({ provider: 'github' }),
        listIntegrations: (n) => n.listIntegrations(),
        getIntegration: (n) => n.getIntegration({ uniqueKey: 'gh' }, { include: ['webhook'] }),
        createIntegration: (n) => n.createIntegration({ provider: 'github', unique_key: 'gh' }),
        createQuickstartIntegration: (n) => n.createQuickstartIntegration({ provider: 'github' } as Parameters<Nango['createQuickstartIntegration']>[0]),
        updateIntegration: (n) => n.updateIntegration({ uniqueKey: 'gh' }, { display_name: 'x' }),
        deleteIntegration: (n) => n.deleteIntegration('gh'),
        listFunctions: (n) => n.listFunctions({ uniqueKey: 'gh' }),
        getFunction: (n) => n.getFunction({ uniqueKey: 'gh', name: 'f' }, { type: 'sync' }),
        getFunctionCode: (n) => n.getFunctionCode({ uniqueKey: 'gh', name: 'f' }, { type: 'sync' }),
        deleteFunction: (n) => n.deleteFunction({ uniqueKey: 'gh', name: 'f' }, { type: 'sync' }),
        listConnections: (n) => n.listConnections(),
        getConnection: (n) => n.getConnection('gh', 'c1'),
        patchConnection: (n) => n.patchConnection({ connectionId: 'c1', provider_config_key: 'gh' }, { tags: {} }),
        getToken: (n) => n.getToken('gh', 'c1'),
        getRawTokenResponse: (n) => n.getRawTokenResponse('gh', 'c1'),
        getMetadata: (n) => n.getMetadata('gh', 'c1'),
        setMetadata: (n) => n.setMetadata('gh', 'c1', { a: 1 }),
        updateMetadata: (n) => n.updateMetadata('gh', 'c1', { a: 1 }),
        deleteConnection: (n) => n.deleteConnection('gh', 'c1'),
        getScriptsConfig: (n) => n.getScriptsConfig(),
        listRecords: (n) => n.listRecords({ providerConfigKey: 'gh', connectionId: 'c1', model: 'M' }),
        pruneRecords: (n) => n.pruneRecords({ providerConfigKey: 'gh', connectionId: 'c1', model: 'M', untilCursor: 'x' }),
        triggerSync: (n) => n.triggerSync('gh', ['s'], 'c1'),
        startSync: (n) => n.startSync('gh', ['s'], 'c1'),
        pauseSync: (n) => n.pauseSync('gh', ['s'], 'c1'),
        syncStatus: (n) => n.syncStatus('gh', ['s'], 'c1'),
        updateSyncConnectionFrequency: (n) => n.updateSyncConnectionFrequency('gh', 's', 'c1', '1h'),
        waitForConnection: (n) => n.waitForConnection('gh', 'user-1'),
        createSyncVariant: (n) => n.createSyncVariant({ provider_config_key: 'gh', connection_id: 'c1', name: 's', variant: 'v' }),
        deleteSyncVariant: (n) => n.deleteSyncVariant({ provider_config_key: 'gh', connection_id: 'c1', name: 's', variant: 'v' }),
        getEnvironmentVariables: (n) => n.getEnvironmentVariables(),
        _triggerAction: (n) => n.triggerAction('gh', 'c1', 'a', {}),
        triggerAction: (n) => n.triggerAction('gh', 'c1', 'a', {}),
        triggerActionAsync: (n) => n.triggerActionAsync('gh', 'c1', 'a', {}),
        getAsyncActionResult: (n) => n.getAsyncActionResult({ id: 'a1' }),
        proxy: (n) => n.proxy({ method: 'GET', endpoint: '/user', providerConfigKey: 'gh', connectionId: 'c1' }),
        get: (n) => n.get({ endpoint: '/a/b', providerConfigKey: 'gh', connectionId: 'c1' }),
        post: (n) => n.post({ endpoint: '/a', providerConfigKey: 'gh', connectionId: 'c1', data: {} }),
        put: (n) => n.put({ endpoint: '/a', providerConfigKey: 'gh', connectionId: 'c1', data: {} }),
        patch: (n) => n.patch({ endpoint: '/a', providerConfigKey: 'gh', connectionId: 'c1', data: {} }),
        delete: (n) => n.delete({ endpoint: '/a', providerConfigKey: 'gh', connectionId: 'c1' }),
        createConnectSession: (n) => n.createConnectSession({ end_user: { id: 'u1' } }),
        createReconnectSession: (n) => n.createReconnectSession({ connection_id: 'c1', integration_id: 'gh' }),
        getConnectionDetails: (n) => n.getConnection('gh', 'c1', true)
    };
    // Methods that make no request: signature checks and header building.
    const local = new Set(['constructor', 'verifyWebhookSignature', '_verifyWebhookSignatureImpl', 'verifyIncomingWebhookRequest', 'enrichHeaders']);
    // Calls the SDK can make that Switchboard does not serve (docs/compatibility.md): the document only holds what the server answers.
    const notServed = new Set(['POST /integrations/quickstart']);

    it('every SDK method is exercised', () => {
        const methods = Object.getOwnPropertyNames(Nango.prototype).filter((m) => !local.has(m));
        assert.deepEqual(
            methods.filter((m) => !invocations[m]),
            [],
            'SDK methods without an invocation here'
        );
    });

    it('every request the SDK makes matches an operation of the document', async () => {
        for (const [name, call] of Object.entries(invocations)) {
            const before = calls.length;
            await call(nango).catch(() => undefined);
            assert.ok(calls.length > before, `${name} made no request`);
        }
        const unmatched = calls.filter((c) => !matchOperation(c.method, c.path)).map((c) => `${c.method} ${c.path}`);
        assert.deepEqual([...new Set(unmatched)], [...notServed]);
        for (const call of notServed) {
            const [method, url] = call.split(' ');
            assert.ok(
                !routeTable.some((r) => [r.url].flat().includes(url!) && [r.method].flat().includes(method as never)),
                `${call} is served now: remove it from notServed`
            );
        }
        assert.ok(calls.length >= Object.keys(invocations).length);
    });
});

describe('GET /openapi.json', () => {
    let server: TestServer;
    before(async () => {
        server = await startServer({ SWITCHBOARD_PUBLIC_PORT: '0', SWITCHBOARD_PUBLIC_HOST: '127.0.0.1' });
    });
    after(async () => {
        await server?.stop();
        if (server) removeDir(server.dataDir);
    });

    it('serves the document on the main listener, and is a 404 on the public one', async () => {
        const res = await fetch(`${server.url}/openapi.json`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        const served = (await res.json()) as Doc & { info: { version: string } };
        assert.equal(served.info.version, JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
        assert.deepEqual(served.paths, JSON.parse(JSON.stringify(doc.paths)));
        const onPublic = await fetch(`${server.publicUrl}/openapi.json`);
        assert.equal(onPublic.status, 404);
        assert.equal(((await onPublic.json()) as { error: { code: string } }).error.code, 'route_not_found');
    });
});
