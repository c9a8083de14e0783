// The Connect UI's forms for TBA, SIGNATURE and BILL (issue #15 item 2), in real Chromium through the real server,
// in English and French, with screenshots: each form asks for its mode's fields, a refused value is shown as a
// form error, and the right values make a connection the stand-in APIs accept.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Nango } from '@nangohq/node';
import type { Page, FrameLocator } from 'playwright-core';
import { startServer, removeDir, writeProvidersFile, type TestServer, storageEnv } from './support/server.ts';
import { startUpstream, json, type RecordedRequest } from './support/upstream.ts';
import { freePort } from './support/browserless.ts';
import { screenshotDir, screenshotsOn } from './support/browser.ts';
import { launchBrowser, startAppServer, type AppServer, type TestBrowser } from './support/connect-ui-app.ts';
import { api, type Json } from './support/webhooks.ts';

const shots = `${screenshotDir}connect-ui-modes-2-`;
mkdirSync(screenshotDir, { recursive: true });

declare const window: { events: Array<{ type: string; payload?: Record<string, unknown> }>; sdkLoaded?: boolean; openUI(opts: Record<string, unknown>): void };

const ROLE = 'arn:aws:iam::123456789012:role/AcmeAccess';
const BILL = { username: 'ap@acme.test', password: 'b-pass', organization_id: '00802ABC', dev_key: randomBytes(8).toString('hex') };

// On the embedded default and on PostgreSQL; the screenshots come from the embedded run.
for (const backend of ['embedded', 'postgres'] as const)
    describe(`Connect UI forms for TBA, SIGNATURE, BILL and AWS roles (${backend})`, () => {
        let store: Awaited<ReturnType<typeof storageEnv>> | undefined;
        const shoot = screenshotsOn(backend);
        let server: TestServer;
        let up: Awaited<ReturnType<typeof startUpstream>>;
        let app: AppServer;
        let browser: TestBrowser;
        let nango: Nango;
        let publicUrl: string;

        before(async () => {
            const port = await freePort();
            publicUrl = `http://127.0.0.1:${port}`;
            [up, app, browser] = await Promise.all([
                startUpstream((req: RecordedRequest, res) => {
                    const path = req.url.split('?')[0]!;
                    // The stand-ins check only what the form decides here (auth-modes-2.test.ts checks the signatures).
                    if (path.startsWith('/netsuite/'))
                        return /^OAuth realm="1234567_SB1",/.test(String(req.headers.authorization)) &&
                            /oauth_token="tk-ok"/.test(String(req.headers.authorization))
                            ? json(res, 200, {})
                            : json(res, 401, {
                                  title: 'Unauthorized',
                                  status: 401,
                                  'o:errorDetails': [{ detail: 'Invalid login attempt.', 'o:errorCode': 'INVALID_LOGIN' }]
                              });
                    if (path.startsWith('/emarsys/')) return json(res, /Username="acme001"/.test(String(req.headers['x-wsse'])) ? 200 : 401, { replyCode: 0 });
                    // STS AssumeRole (aws-role.test.ts checks its signature and trust policy): this role only.
                    if (path === '/sts/') {
                        const role = new URLSearchParams(req.body).get('RoleArn');
                        res.writeHead(role === ROLE ? 200 : 403, { 'content-type': 'text/xml' });
                        res.end(
                            role === ROLE
                                ? `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAUI00000000000001</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>${new Date(Date.now() + 3600_000).toISOString()}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`
                                : '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error></ErrorResponse>'
                        );
                        return;
                    }
                    if (path.startsWith('/aws/')) return json(res, /Credential=ASIAUI/.test(String(req.headers.authorization)) ? 200 : 403, {});
                    if (path === '/bill/v3/login') {
                        const b = JSON.parse(req.body || '{}') as Record<string, string>;
                        return b['password'] === BILL.password && b['devKey'] === BILL.dev_key
                            ? json(res, 200, { sessionId: 'sess-ui', organizationId: b['organizationId'], userId: 'u-1' })
                            : json(res, 400, [
                                  { code: 'BDC_1101', severity: 'ERROR', category: 'REQUEST', message: 'User name and/or password do not match our records.' }
                              ]);
                    }
                    json(res, 404, {});
                }),
                startAppServer(),
                launchBrowser()
            ]);
            store = await storageEnv(backend);
            server = await startServer({
                ...store.env,
                PORT: String(port),
                SWITCHBOARD_SERVER_URL: publicUrl,
                SWITCHBOARD_PROVIDERS: writeProvidersFile(`
netsuite-local:
  display_name: NetSuite
  auth_mode: TBA
  proxy:
    base_url: ${up.url}/netsuite
    verification:
      method: GET
      endpoints: [/services/rest/record/v1/metadata-catalog]
  connection_config:
    accountId:
      type: string
      title: Account ID
      description: Your NetSuite account id
      example: 1234567-sb1
      pattern: '^[a-zA-Z0-9_-]+$'
emarsys-local:
  display_name: Emarsys
  auth_mode: SIGNATURE
  signature:
    protocol: WSSE
  proxy:
    base_url: ${up.url}/emarsys
    headers:
      x-wsse: \${accessToken}
    verification:
      method: GET
      endpoints: [/api/v2/settings]
  credentials:
    username:
      type: string
      title: API user name
      description: Management > Security Settings > API users
    password:
      type: string
      title: API secret
      description: Shown once when the API user is made
      secret: true
aws-local:
  display_name: Acme on AWS
  auth_mode: AWS_SIGV4
  proxy:
    base_url: ${up.url}/aws
    verification:
      method: GET
      endpoints: [/ping]
bill-local:
  display_name: Bill
  auth_mode: BILL
  token_url: ${up.url}/bill/v3/login
  proxy:
    base_url: ${up.url}/bill
`)
            });
            nango = new Nango({ host: server.url, secretKey: server.secretKey });
            const ns = await api(server, 'POST', '/integrations', {
                provider: 'netsuite-local',
                unique_key: 'ns',
                credentials: { type: 'TBA', client_id: 'ck', client_secret: 'cs' }
            });
            assert.equal(ns.status, 200, JSON.stringify(ns.body));
            await nango.createIntegration({ provider: 'emarsys-local', unique_key: 'emarsys' });
            await nango.createIntegration({ provider: 'bill-local', unique_key: 'bill' });
            const aws = await api(server, 'POST', '/integrations', {
                provider: 'aws-local',
                unique_key: 'aws',
                custom: {
                    aws_access_key_id: 'AKIAVENDOR0000000001',
                    aws_secret_access_key: 'vendor-secret',
                    aws_sts_endpoint: `${up.url}/sts/`,
                    aws_region: 'eu-west-1',
                    aws_service: 'execute-api'
                }
            });
            assert.equal(aws.status, 200, JSON.stringify(aws.body));
        });
        after(async () => {
            await browser?.close();
            await server?.stop();
            await Promise.all([up?.close(), app?.close()]);
            if (server) removeDir(server.dataDir);
            await store?.drop();
        });

        async function open(allowed: string[], lang?: string): Promise<{ page: Page; ui: FrameLocator }> {
            const token = (await nango.createConnectSession({ end_user: { id: 'user-9' }, allowed_integrations: allowed })).data.token;
            const page = await browser.context.newPage();
            await page.goto(app.url);
            await page.waitForFunction(() => window.sdkLoaded === true);
            await page.evaluate((o) => window.openUI(o), {
                baseURL: `${publicUrl}/connect`,
                apiURL: publicUrl,
                sessionToken: token,
                ...(lang ? { lang } : {})
            });
            return { page, ui: page.frameLocator('#connect-ui') };
        }
        const labels = async (ui: FrameLocator) => (await ui.locator('label.sb-label').allInnerTexts()).map((l) => l.trim());
        const stored = async (key: string): Promise<Json> => {
            const list = await nango.listConnections({ integrationId: key } as never);
            assert.equal(list.connections.length, 1);
            return (await api(server, 'GET', `/connections/${list.connections[0]!.connection_id}?provider_config_key=${key}`)).body;
        };

        it('TBA: token id and secret, then the account id; a refused token is a form error, the right one a connection', async () => {
            const { page, ui } = await open(['ns']);
            await ui.getByLabel('Token ID').waitFor();
            assert.deepEqual(await labels(ui), ['Token ID', 'Token secret', 'Account ID']);
            assert.equal(await ui.getByLabel('Token secret').getAttribute('type'), 'password');
            await ui.getByLabel('Token ID').fill('tk-wrong');
            await ui.getByLabel('Token secret').fill('secret');
            await ui.getByLabel('Account ID').fill('1234567-sb1');
            await shoot(page, { path: `${shots}tba-form.png` });
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=form-error]').waitFor();
            await ui.getByLabel('Token ID').fill('tk-ok');
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=success]').waitFor();
            const conn = await stored('ns');
            assert.equal(conn.credentials.type, 'TBA');
            assert.equal(conn.credentials.token_id, 'tk-ok');
            assert.equal(conn.connection_config.accountId, '1234567-sb1');
            await page.close();
        });

        it('SIGNATURE: the provider’s own labels for user and secret; the connection holds a WSSE token', async () => {
            const { page, ui } = await open(['emarsys']);
            await ui.getByLabel('API user name').waitFor();
            assert.deepEqual(await labels(ui), ['API user name', 'API secret']);
            await ui.getByLabel('API user name').fill('acme001');
            await ui.getByLabel('API secret').fill('s3cret');
            await shoot(page, { path: `${shots}signature-form.png` });
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=success]').waitFor();
            assert.match((await stored('emarsys')).credentials.token, /^UsernameToken Username="acme001"/);
            await page.close();
        });

        it('BILL in French: four fields; a wrong password shows Bill’s refusal, the right one connects', async () => {
            const { page, ui } = await open(['bill'], 'fr');
            await ui.getByLabel('Clé de développeur').waitFor();
            assert.deepEqual(await labels(ui), ['Nom d’utilisateur', 'Mot de passe', 'ID de l’organisation', 'Clé de développeur']);
            const fields = ui.locator('input.sb-input');
            await fields.nth(0).fill(BILL.username);
            await fields.nth(1).fill('wrong');
            await ui.getByLabel('ID de l’organisation').fill(BILL.organization_id);
            await ui.getByLabel('Clé de développeur').fill(BILL.dev_key);
            await shoot(page, { path: `${shots}bill-form-fr.png` });
            await ui.getByRole('button', { name: 'Connecter' }).click();
            await ui.locator('[data-testid=form-error]').waitFor();
            await shoot(page, { path: `${shots}bill-form-fr-refused.png` });
            await fields.nth(1).fill(BILL.password);
            await ui.getByRole('button', { name: 'Connecter' }).click();
            await ui.locator('[data-testid=success]').waitFor();
            const conn = await stored('bill');
            assert.equal(conn.credentials.session_id, 'sess-ui');
            await page.close();
        });

        it('AWS_SIGV4: the form offers an access key or an IAM role; a role the account refuses is a form error, the right one connects', async () => {
            const { page, ui } = await open(['aws']);
            await ui.getByLabel('Access key ID').waitFor();
            await ui.getByLabel('By assuming an IAM role').check();
            await ui.getByLabel('IAM role ARN').waitFor();
            assert.deepEqual(await labels(ui), ['IAM role ARN', 'Region (optional)', 'Service (optional)']);
            await ui.getByLabel('IAM role ARN').fill('arn:aws:iam::123456789012:role/Other');
            await shoot(page, { path: `${shots}aws-role-form.png` });
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=form-error]').waitFor();
            await ui.getByLabel('IAM role ARN').fill(ROLE);
            await ui.getByRole('button', { name: 'Connect' }).click();
            await ui.locator('[data-testid=success]').waitFor();
            const conn = await stored('aws');
            assert.equal(conn.credentials.role_arn, ROLE);
            assert.equal(conn.credentials.region, 'eu-west-1', 'the integration’s default region');
            await page.close();
        });
    });
