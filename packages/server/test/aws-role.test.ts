// AWS_SIGV4 with role_arn (issue #15 item 2): the integration's AWS key assumes the end user's role through an STS
// stand-in that follows AssumeRole's form request and XML answers and checks the SigV4 signature, the trust policy
// (role and external id) and the session name; the temporary key it issues signs proxied requests and is renewed
// before it expires. On the embedded database and on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import aws4 from 'aws4';
import { startServer, storageEnv, removeDir, writeProvidersFile, type TestServer } from './support/server.ts';
import { startUpstream, type RecordedRequest } from './support/upstream.ts';
import { api, type Json } from './support/webhooks.ts';

const VENDOR = { accessKeyId: 'AKIAVENDOR0000000001', secretAccessKey: randomBytes(20).toString('base64') };
const ROLE = 'arn:aws:iam::123456789012:role/SwitchboardAccess';
const EXTERNAL_ID = 'ext-7d1f0c';

/** Recomputes a request's SigV4 signature with `secret` from the headers it says it signed. */
function sigv4Valid(req: RecordedRequest, keyId: string, secret: string, service: string, region: string, token?: string): boolean {
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${keyId}/`)) return false;
    const signed = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
    const headers = Object.fromEntries(signed.filter((h) => h !== 'host').map((h) => [h, String(req.headers[h] ?? '')]));
    const opts: aws4.Request & { headers: Record<string, string> } = {
        host: String(req.headers.host),
        path: req.url,
        method: req.method,
        headers,
        service,
        region,
        ...(req.body ? { body: req.body } : {})
    };
    aws4.sign(opts, { accessKeyId: keyId, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) });
    return opts.headers['Authorization'] === auth;
}

const xml = (res: import('node:http').ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
};
const stsError = (code: string, message: string) =>
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`;

for (const backend of ['embedded', 'postgres'] as const) {
    describe(`AWS_SIGV4 with role_arn through STS AssumeRole (${backend})`, () => {
        let server: TestServer;
        let up: Awaited<ReturnType<typeof startUpstream>>;
        let dropDb: (() => Promise<void>) | undefined;
        /** Temporary keys STS issued: access key id -> secret, token, expiry. */
        const issued = new Map<string, { secret: string; token: string; expires: number; session: string }>();
        let lifetimeS = 3600;

        before(async () => {
            up = await startUpstream((req: RecordedRequest, res) => {
                const path = req.url.split('?')[0]!;
                if (path === '/sts/') {
                    if (!sigv4Valid(req, VENDOR.accessKeyId, VENDOR.secretAccessKey, 'sts', 'us-east-1'))
                        return xml(
                            res,
                            403,
                            stsError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.')
                        );
                    const form = new URLSearchParams(req.body);
                    if (form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15')
                        return xml(res, 400, stsError('InvalidAction', 'Could not find operation'));
                    if (form.get('RoleArn') !== ROLE || form.get('ExternalId') !== EXTERNAL_ID)
                        return xml(
                            res,
                            403,
                            stsError(
                                'AccessDenied',
                                `User: arn:aws:iam::999999999999:user/vendor is not authorized to perform: sts:AssumeRole on resource: ${form.get('RoleArn')}`
                            )
                        );
                    const session = form.get('RoleSessionName') ?? '';
                    if (!/^[\w+=,.@-]{2,64}$/.test(session)) return xml(res, 400, stsError('ValidationError', 'RoleSessionName'));
                    const key = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
                    const value = {
                        secret: randomBytes(20).toString('base64'),
                        token: randomBytes(48).toString('base64'),
                        expires: Date.now() + lifetimeS * 1000,
                        session
                    };
                    issued.set(key, value);
                    return xml(
                        res,
                        200,
                        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><SourceIdentity>x</SourceIdentity><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/SwitchboardAccess/${session}</Arn><AssumedRoleId>AROA3XFRBF535PLBIFPI4:${session}</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>${value.secret}</SecretAccessKey><SessionToken>${value.token}</SessionToken><Expiration>${new Date(value.expires).toISOString()}</Expiration></Credentials><PackedPolicySize>6</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata></AssumeRoleResponse>`
                    );
                }
                if (path.startsWith('/aws/')) {
                    const keyId = /Credential=([A-Z0-9]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
                    const key = issued.get(keyId);
                    if (!key || req.headers['x-amz-security-token'] !== key.token)
                        return xml(
                            res,
                            403,
                            '<Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error>'
                        );
                    if (key.expires < Date.now())
                        return xml(
                            res,
                            403,
                            '<Error><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error>'
                        );
                    if (!sigv4Valid(req, keyId, key.secret, 'execute-api', 'eu-west-1', key.token))
                        return xml(res, 403, '<Error><Code>SignatureDoesNotMatch</Code></Error>');
                    res.writeHead(200, { 'content-type': 'application/json' });
                    res.end(JSON.stringify({ key: keyId, body: req.body }));
                    return;
                }
                res.writeHead(404);
                res.end();
            });
            const env: Record<string, string> = {
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`
aws-local:
  display_name: AWS API Gateway (loopback)
  auth_mode: AWS_SIGV4
  proxy:
    base_url: ${up.url}/aws
    verification:
      method: GET
      endpoints: [/ping]
`)
            };
            const storage = await storageEnv(backend);
            Object.assign(env, storage.env);
            dropDb = storage.drop;
            server = await startServer(env);
            const custom = {
                aws_access_key_id: VENDOR.accessKeyId,
                aws_secret_access_key: VENDOR.secretAccessKey,
                aws_sts_endpoint: `${up.url}/sts/`,
                aws_external_id: EXTERNAL_ID,
                aws_service: 'execute-api',
                aws_region: 'eu-west-1'
            };
            assert.equal((await api(server, 'POST', '/integrations', { provider: 'aws-local', unique_key: 'aws', custom })).status, 200);
            const wrongKey = { ...custom, aws_secret_access_key: 'not-the-vendor-secret' };
            assert.equal((await api(server, 'POST', '/integrations', { provider: 'aws-local', unique_key: 'aws-wrong', custom: wrongKey })).status, 200);
            assert.equal((await api(server, 'POST', '/integrations', { provider: 'aws-local', unique_key: 'aws-nokey' })).status, 200);
        });
        after(async () => {
            await server?.stop();
            await up?.close();
            if (server) removeDir(server.dataDir);
            await dropDb?.();
        });

        const connectUi = async (key: string, body: unknown) => {
            const token = (await api(server, 'POST', '/connect/sessions', { end_user: { id: 'u-1' }, allowed_integrations: [key] })).body.data.token;
            const res = await fetch(`${server.url}/auth/aws-sigv4/${key}?connect_session_token=${token}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(body)
            });
            return { status: res.status, body: (await res.json()) as Json };
        };
        const proxy = (key: string, id: string, path: string, init: RequestInit = {}) =>
            fetch(`${server.url}/proxy${path}`, {
                ...init,
                headers: {
                    authorization: `Bearer ${server.secretKey}`,
                    'provider-config-key': key,
                    'connection-id': id,
                    ...(init.headers as Record<string, string>)
                }
            });
        const stsCalls = () => up.requests.filter((r) => r.url === '/sts/').length;

        it('the Connect UI route assumes the role; the temporary key signs proxied requests; refusals store nothing', async () => {
            const other = await connectUi('aws', { role_arn: 'arn:aws:iam::123456789012:role/SomeoneElse', region: 'eu-west-1', service: 'execute-api' });
            assert.equal(other.status, 400);
            assert.equal(other.body.error.code, 'connection_test_failed');
            assert.equal(other.body.error.payload.error, 'AccessDenied', 'STS’s code reaches the app');
            const badVendor = await connectUi('aws-wrong', { role_arn: ROLE, region: 'eu-west-1', service: 'execute-api' });
            assert.equal(badVendor.body.error.payload.error, 'SignatureDoesNotMatch');
            const noKey = await connectUi('aws-nokey', { role_arn: ROLE, region: 'eu-west-1', service: 'execute-api' });
            assert.equal(noKey.status, 400);
            assert.equal(noKey.body.error.code, 'invalid_auth_mode');
            const chosenId = await connectUi('aws', { role_arn: ROLE, region: 'eu-west-1', service: 'execute-api', external_id: 'mine' });
            assert.equal(chosenId.status, 400);
            assert.equal(chosenId.body.error.code, 'invalid_body', 'the browser cannot choose the external id');
            const notArn = await connectUi('aws', { role_arn: 'SwitchboardAccess', region: 'eu-west-1', service: 'execute-api' });
            assert.equal(notArn.body.error.code, 'invalid_body');
            assert.equal((await api(server, 'GET', '/connections?integrationId=aws')).body.connections.length, 0);

            const ok = await connectUi('aws', { role_arn: ROLE, region: 'eu-west-1', service: 'execute-api' });
            assert.equal(ok.status, 200, JSON.stringify(ok.body));
            const conn = await api(server, 'GET', `/connections/${ok.body.connectionId}?provider_config_key=aws`);
            assert.equal(conn.body.credentials.role_arn, ROLE);
            assert.match(conn.body.credentials.access_key_id, /^ASIA/);
            assert.ok(Date.parse(conn.body.credentials.expires_at) > Date.now() + 50 * 60_000);
            assert.equal(issued.get(conn.body.credentials.access_key_id)?.session, `switchboard-${ok.body.connectionId}`);
            const posted = await proxy('aws', ok.body.connectionId, '/items?b=2&a=1', {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ name: 'widget' })
            });
            assert.equal(posted.status, 200, await posted.clone().text());
            assert.equal(((await posted.json()) as Json).key, conn.body.credentials.access_key_id);
            // What Nango's frontend SDK sends for a role, {role_arn, region}: the service is the integration's.
            const sdk = await connectUi('aws', { role_arn: ROLE, region: 'eu-west-1' });
            assert.equal(sdk.status, 200, JSON.stringify(sdk.body));
            const bare = await connectUi('aws', { role_arn: ROLE });
            assert.equal(bare.status, 200, 'the region defaults to the integration’s');
            assert.equal((await proxy('aws', bare.body.connectionId, '/ping')).status, 200);
            const noService = await connectUi('aws-wrong', { role_arn: ROLE, region: 'eu-west-1', service: 'Not A Service' });
            assert.equal(noService.status, 400);
            assert.equal(noService.body.error.code, 'invalid_body');
        });

        it('renewal: a key about to expire is replaced before the call; force_refresh assumes the role again', async () => {
            lifetimeS = 600; // less than the 15-minute window: due at once
            const imported = await api(server, 'POST', '/connections', {
                provider_config_key: 'aws',
                connection_id: 'role-imp',
                credentials: { type: 'AWS_SIGV4', role_arn: ROLE, region: 'eu-west-1', service: 'execute-api' }
            });
            assert.equal(imported.status, 201, JSON.stringify(imported.body));
            const first = imported.body.credentials.access_key_id as string;
            lifetimeS = 3600;
            const before = stsCalls();
            const r = await proxy('aws', 'role-imp', '/things');
            assert.equal(r.status, 200);
            const used = ((await r.json()) as Json).key as string;
            assert.notEqual(used, first, 'the key about to expire was not used');
            assert.equal(stsCalls(), before + 1);
            // Fresh now: no STS call for the next request.
            assert.equal((await proxy('aws', 'role-imp', '/things')).status, 200);
            assert.equal(stsCalls(), before + 1);
            const forced = await api(server, 'GET', '/connections/role-imp?provider_config_key=aws&force_refresh=true');
            assert.notEqual(forced.body.credentials.access_key_id, used);
            // A static key is left as it is, forced or not.
            const stat = await api(server, 'POST', '/connections', {
                provider_config_key: 'aws',
                connection_id: 'static',
                credentials: { type: 'AWS_SIGV4', access_key_id: 'AKIASTATIC0000000001', secret_access_key: 'x', region: 'eu-west-1', service: 'execute-api' }
            });
            assert.equal(stat.status, 201);
            const calls = stsCalls();
            assert.equal(
                (await api(server, 'GET', '/connections/static?provider_config_key=aws&force_refresh=true')).body.credentials.access_key_id,
                'AKIASTATIC0000000001'
            );
            assert.equal(stsCalls(), calls);
            const refused = await api(server, 'POST', '/connections', {
                provider_config_key: 'aws',
                connection_id: 'role-bad',
                credentials: { type: 'AWS_SIGV4', role_arn: 'arn:aws:iam::123456789012:role/Nope', region: 'eu-west-1', service: 'execute-api' }
            });
            assert.equal(refused.status, 400);
            assert.equal((await api(server, 'GET', '/connections/role-bad?provider_config_key=aws')).status, 404);
        });

        it('neither the vendor’s secret nor a temporary one reaches the log', () => {
            const log = server.output();
            for (const secret of [VENDOR.secretAccessKey, ...[...issued.values()].flatMap((k) => [k.secret, k.token])])
                assert.ok(!log.includes(secret), 'a secret was logged');
        });
    });
}
