import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { stringify } from 'yaml';
import { builtinTypes } from './builtins.ts';
import { crdStatus, typesOfCrd, validateCrd } from './crd.ts';
import { gvPath, openApiDocument, openApiIndex } from './openapi.ts';
import { openApiV2Json, openApiV2Protobuf, protobufMime } from './openapi-v2.ts';
import { readBody, selectorMatcher, write } from './resources.ts';
import { KubeError, notFound } from './status.ts';
import { ObjectStore, type Watcher } from './store.ts';
import { table } from './table.ts';
import { groupVersion, type KubeObject, type ResourceType } from './types.ts';

export interface FakeKubeOptions {
    /** How often a watch that allows bookmarks gets one. */
    bookmarkIntervalMs?: number;
}

/**
 * A stand-in for the Kubernetes API server, faithful where the operator, kubectl and @kubernetes/client-node look:
 * HTTPS with a bearer token, discovery, OpenAPI v3, list and watch with resourceVersion and bookmarks, 409 on a
 * stale write, 410 on a compacted watch, finalizers and deletionTimestamp, the status subresource, CRDs that
 * register their kinds, and Table output for `kubectl get`.
 */
export class FakeKubeApi {
    readonly store = new ObjectStore();
    readonly token = `token-${randomUUID()}`;
    /** Method and path of every request, for tests that check what a client did. */
    readonly requests: string[] = [];
    /** Called before each request is served; a promise it returns holds the answer until it settles (a hung call). */
    gate: ((method: string, path: string, req: IncomingMessage) => Promise<void> | undefined) | undefined;
    private types: ResourceType[] = builtinTypes();
    private readonly watches = new Map<ServerResponse, () => void>();

    private readonly server: Server;
    readonly url: string;
    readonly caPem: string;
    private readonly opts: FakeKubeOptions;

    private constructor(server: Server, url: string, caPem: string, opts: FakeKubeOptions) {
        this.server = server;
        this.url = url;
        this.caPem = caPem;
        this.opts = opts;
    }

    static async start(opts: FakeKubeOptions = {}): Promise<FakeKubeApi> {
        const pems = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
            keySize: 2048,
            algorithm: 'sha256',
            extensions: [
                { name: 'basicConstraints', cA: true },
                {
                    name: 'subjectAltName',
                    altNames: [
                        { type: 7, ip: '127.0.0.1' },
                        { type: 2, value: 'localhost' }
                    ]
                }
            ]
        });
        let api: FakeKubeApi | undefined;
        const server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
            void api!.handle(req, res);
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as AddressInfo;
        api = new FakeKubeApi(server, `https://127.0.0.1:${port}`, pems.cert, opts);
        for (const ns of ['default', 'kube-system']) api.store.create(api.type('', 'namespaces')!, undefined, { metadata: { name: ns } });
        return api;
    }

    /** A kubeconfig file (certificate-authority-data and a token) for kubectl and KubeConfig.loadFromFile. */
    writeKubeconfig(namespace = 'default'): string {
        const dir = mkdtempSync(join(tmpdir(), 'sb-kubeconfig-'));
        const file = join(dir, 'config');
        writeFileSync(
            file,
            stringify({
                apiVersion: 'v1',
                kind: 'Config',
                clusters: [{ name: 'stand-in', cluster: { server: this.url, 'certificate-authority-data': Buffer.from(this.caPem).toString('base64') } }],
                users: [{ name: 'tester', user: { token: this.token } }],
                contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'tester', namespace } }],
                'current-context': 'stand-in'
            })
        );
        return file;
    }

    /** Forgets the change history (etcd compaction): watches from an older resourceVersion get 410 Gone. */
    compact(): void {
        this.store.compact();
    }

    /** Ends every open watch, as an API server restart or a load balancer would. */
    dropWatches(): void {
        for (const close of [...this.watches.values()]) close();
    }

    async stop(): Promise<void> {
        this.dropWatches();
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    /** A registered resource type, for tests that write through the store directly (synchronously). */
    typeOf(group: string, plural: string): ResourceType | undefined {
        return this.type(group, plural);
    }

    private type(group: string, plural: string, version?: string): ResourceType | undefined {
        return this.types.find((t) => t.group === group && t.plural === plural && (version === undefined || t.version === version));
    }

    private byGroupVersion(): Map<string, ResourceType[]> {
        const m = new Map<string, ResourceType[]>();
        for (const t of this.types) m.set(gvPath(t), [...(m.get(gvPath(t)) ?? []), t]);
        return m;
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const url = new URL(req.url ?? '/', this.url);
        this.requests.push(`${req.method} ${url.pathname}${url.search}`);
        const held = this.gate?.(req.method ?? '', url.pathname, req);
        if (held) await held;
        if (req.destroyed || res.destroyed) return;
        try {
            if (req.headers.authorization !== `Bearer ${this.token}`) throw new KubeError(401, 'Unauthorized', 'Unauthorized');
            const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method ?? '') ? await readBody(req) : undefined;
            const answer = this.route(req, res, url, body);
            if (answer === 'streaming') return;
            send(res, answer.status, answer.body, answer.warnings);
        } catch (err) {
            if (err instanceof KubeError) send(res, err.code, err.toStatus(), []);
            else send(res, 500, new KubeError(500, 'InternalError', String(err)).toStatus(), []);
        }
    }

    private route(req: IncomingMessage, res: ServerResponse, url: URL, body: unknown): Answer | 'streaming' {
        const p = url.pathname.replace(/\/+$/, '');
        const parts = p.split('/').filter(Boolean);
        if (p === '/version') return ok({ major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' });
        if (p === '/api')
            return ok({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: url.host }] });
        if (p === '/apis') return ok({ kind: 'APIGroupList', apiVersion: 'v1', groups: this.groups() });
        if (p === '/openapi/v3') return ok(openApiIndex(this.byGroupVersion()));
        if (p === '/openapi/v2') {
            if (!(req.headers.accept ?? '').includes('protobuf')) return ok(openApiV2Json());
            res.writeHead(200, { 'Content-Type': protobufMime });
            res.end(openApiV2Protobuf());
            return 'streaming';
        }
        if (parts[0] === 'openapi' && parts[1] === 'v3') {
            const types = this.byGroupVersion().get(parts.slice(2).join('/'));
            if (!types) throw notFound('openapi', '', parts.slice(2).join('/'));
            return ok(openApiDocument(types));
        }
        let group: string;
        let version: string;
        let rest: string[];
        if (parts[0] === 'api' && parts[1] === 'v1') [group, version, rest] = ['', 'v1', parts.slice(2)];
        else if (parts[0] === 'apis' && parts.length >= 2) {
            group = parts[1]!;
            if (parts.length === 2) {
                const g = this.groups().find((x) => x.name === group);
                if (!g) throw notFound('groups', '', group);
                return ok({ kind: 'APIGroup', apiVersion: 'v1', ...g });
            }
            [version, rest] = [parts[2]!, parts.slice(3)];
        } else throw new KubeError(404, 'NotFound', 'the server could not find the requested resource');
        if (rest.length === 0) return ok(this.resourceList(group, version));
        let namespace: string | undefined;
        if (rest[0] === 'namespaces' && rest.length >= 3) [namespace, rest] = [rest[1], rest.slice(2)];
        const [plural, name, subresource] = rest as [string, string | undefined, string | undefined];
        const t = this.type(group, plural, version);
        if (!t || (namespace !== undefined && !t.namespaced)) throw new KubeError(404, 'NotFound', 'the server could not find the requested resource');
        const query = url.searchParams;
        if (req.method === 'GET') {
            if (name) {
                if (subresource && !(subresource === 'status' && t.statusSubresource)) throw notFound(`${t.plural}/${subresource}`, t.group, name);
                const o = this.store.get(t, t.namespaced ? namespace : undefined, name);
                return ok(wantsTable(req) ? table(t, [o], this.store.currentRv()) : o);
            }
            if (query.get('watch') === 'true' || query.get('watch') === '1') return this.watch(t, namespace, query, res);
            const items = this.store.list(t, namespace).filter(selectorMatcher(query));
            if (wantsTable(req)) return ok(table(t, items, this.store.currentRv()));
            return ok({ kind: t.listKind, apiVersion: groupVersion(t), metadata: { resourceVersion: this.store.currentRv() }, items });
        }
        const result = write(
            this.store,
            {
                type: t,
                namespace: t.namespaced ? namespace : undefined,
                name,
                subresource,
                method: req.method ?? '',
                query,
                contentType: req.headers['content-type'] ?? '',
                body
            },
            (ns) => this.store.tryGet(this.type('', 'namespaces')!, undefined, ns) !== undefined
        );
        if (t.kind === 'CustomResourceDefinition' && t.group === 'apiextensions.k8s.io')
            this.afterCrdWrite(req.method ?? '', result.body as KubeObject, subresource);
        return result;
    }

    private afterCrdWrite(method: string, crd: KubeObject, subresource: string | undefined): void {
        const crdType = this.type('apiextensions.k8s.io', 'customresourcedefinitions')!;
        const name = crd.metadata.name!;
        const stored = this.store.tryGet(crdType, undefined, name);
        const registered = this.types.filter((t) => t.custom && `${t.plural}.${t.group}` === name);
        if (!stored) {
            // Deleted: its kinds and their objects go with it.
            for (const t of registered) this.store.dropType(t);
            this.types = this.types.filter((t) => !registered.includes(t));
            return;
        }
        if (method === 'DELETE' || subresource === 'status') return;
        validateCrd(stored);
        this.types = [...this.types.filter((t) => !registered.includes(t)), ...typesOfCrd(stored)];
        this.store.update(crdType, undefined, name, { ...stored, status: crdStatus(stored) }, 'status');
    }

    private watch(t: ResourceType, namespace: string | undefined, query: URLSearchParams, res: ServerResponse): 'streaming' {
        const matches = selectorMatcher(query);
        const inScope = (o: KubeObject) => (namespace === undefined || o.metadata.namespace === namespace) && matches(o);
        const rv = query.get('resourceVersion') ?? '';
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
        res.flushHeaders(); // the real server answers the headers at once; clients wait for them
        const line = (type: string, object: unknown) => {
            if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
        };
        const close = () => {
            clearInterval(bookmarks);
            clearTimeout(timeout);
            this.store.watchers.delete(watcher);
            this.watches.delete(res);
            if (!res.writableEnded) res.end();
        };
        const watcher: Watcher = { typeKey: `${t.group}/${t.plural}`, matches: inScope, send: line };
        let bookmarks: NodeJS.Timeout | undefined;
        let timeout: NodeJS.Timeout | undefined;
        this.watches.set(res, close);
        res.on('close', close);
        if (rv === '' || rv === '0') {
            for (const o of this.store.list(t, namespace).filter(matches)) line('ADDED', o);
        } else {
            try {
                for (const e of this.store.since(t, Number(rv))) if (inScope(e.object)) line(e.type, e.object);
            } catch (err) {
                if (!(err instanceof KubeError)) throw err;
                // The real server answers 200 and then one ERROR event carrying the 410 Status.
                line('ERROR', err.toStatus());
                close();
                return 'streaming';
            }
        }
        this.store.watchers.add(watcher);
        if (query.get('allowWatchBookmarks') === 'true') {
            bookmarks = setInterval(
                () => line('BOOKMARK', { kind: t.kind, apiVersion: groupVersion(t), metadata: { resourceVersion: this.store.currentRv() } }),
                this.opts.bookmarkIntervalMs ?? 1000
            );
        }
        const seconds = Number(query.get('timeoutSeconds') ?? '0');
        if (seconds > 0) timeout = setTimeout(close, seconds * 1000);
        return 'streaming';
    }

    private groups(): Array<{
        name: string;
        versions: Array<{ groupVersion: string; version: string }>;
        preferredVersion: { groupVersion: string; version: string };
    }> {
        const names = [...new Set(this.types.filter((t) => t.group).map((t) => t.group))];
        return names.map((name) => {
            const versions = [...new Set(this.types.filter((t) => t.group === name).map((t) => t.version))].map((version) => ({
                groupVersion: `${name}/${version}`,
                version
            }));
            return { name, versions, preferredVersion: versions[0]! };
        });
    }

    private resourceList(group: string, version: string): Record<string, unknown> {
        const types = this.types.filter((t) => t.group === group && t.version === version);
        if (types.length === 0) throw new KubeError(404, 'NotFound', 'the server could not find the requested resource');
        const resources = types.flatMap((t) => [
            {
                name: t.plural,
                singularName: t.singular,
                namespaced: t.namespaced,
                kind: t.kind,
                verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
                ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
                ...(t.custom ? { categories: ['all'] } : {})
            },
            ...(t.statusSubresource
                ? [{ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] }]
                : [])
        ]);
        return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
    }
}

interface Answer {
    status: number;
    body: unknown;
    warnings: string[];
}
const ok = (body: unknown): Answer => ({ status: 200, body, warnings: [] });
const wantsTable = (req: IncomingMessage) => /as=Table/.test(req.headers.accept ?? '');

function send(res: ServerResponse, status: number, body: unknown, warnings: string[]): void {
    const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json' };
    if (warnings.length > 0) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
}
