// Unit tests for the provider catalogue (schema, loading, alias merge) and templates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogueError, loadCatalogue, publicProvider } from '../src/providers/catalogue.ts';
import { InterpolationError, interpolate, missingConnectionConfig, type InterpolationContext } from '../src/providers/interpolate.ts';
import { interpolateUrl } from '../src/providers/url-template.ts';
import { connectionConfigIssues } from '../src/providers/connection-config.ts';
import { fieldSchema, providerEntrySchema, providerFields, proxySchema } from '../src/providers/schema.ts';
import { knownKeysAt } from '../src/providers/unknown-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-providers-'));
let n = 0;
function file(yaml: string): string {
    const path = join(dir, `providers-${n++}.yaml`);
    writeFileSync(path, yaml);
    return path;
}

/** Asserts loading `yaml` fails with a CatalogueError naming the file, the provider and `detail`. */
function refuses(yaml: string, provider: string, detail: RegExp): void {
    const path = file(yaml);
    assert.throws(
        () => loadCatalogue([path]),
        (err: unknown) => {
            assert.ok(err instanceof CatalogueError, `expected CatalogueError, got ${String(err)}`);
            assert.equal(err.file, path);
            assert.equal(err.provider, provider);
            assert.ok(err.message.startsWith(`providers file ${path}: provider "${provider}": `), err.message);
            assert.match(err.message, detail);
            return true;
        }
    );
}

const REQUIRED = [
    'google',
    'google-calendar',
    'google-mail',
    'google-drive',
    'google-tasks',
    'microsoft',
    'outlook',
    'microsoft-teams',
    'one-drive',
    'slack',
    'github',
    'github-app',
    'salesforce',
    'hubspot',
    'dropbox',
    'notion',
    'linear',
    'jira',
    'zoom',
    'stripe',
    'openai',
    'sendgrid'
];

test('the built-in catalogue loads and holds every required provider', () => {
    const c = loadCatalogue([]);
    for (const name of REQUIRED) assert.ok(c.has(name), `missing ${name}`);
    const modes = new Set(c.list().map(([, def]) => def.auth_mode));
    for (const mode of ['OAUTH1', 'OAUTH2', 'OAUTH2_CC', 'API_KEY', 'BASIC', 'NONE', 'APP'] as const) assert.ok(modes.has(mode), `no ${mode} example`);
    for (const [name, def] of c.list()) {
        assert.ok(def.docs?.startsWith('https://'), `${name} has no docs link`);
        assert.ok(def.categories && def.categories.length > 0, `${name} has no category`);
    }
    const names = c.list().map(([name]) => name);
    assert.deepEqual(names, [...names].sort());
});

test('built-in entries carry the documented endpoints', () => {
    const c = loadCatalogue([]);
    for (const name of ['google-calendar', 'google-mail', 'google-drive', 'google-tasks']) {
        const def = c.get(name)!;
        assert.equal(def.authorization_url, 'https://accounts.google.com/o/oauth2/v2/auth');
        assert.equal(def.token_url, 'https://oauth2.googleapis.com/token');
        assert.equal(def.revocation_url, 'https://oauth2.googleapis.com/revoke');
        assert.equal(def.authorization_params?.access_type, 'offline');
        assert.equal(def.authorization_params?.prompt, 'consent');
    }
    assert.equal(c.get('google-mail')!.proxy?.base_url, 'https://gmail.googleapis.com');
    assert.equal(c.get('google-tasks')!.proxy?.base_url, 'https://tasks.googleapis.com');
    assert.equal(c.get('google-drive')!.proxy?.base_url, 'https://www.googleapis.com');
    assert.equal(c.get('outlook')!.proxy?.base_url, 'https://graph.microsoft.com');
    assert.deepEqual(c.get('one-drive')!.default_scopes, ['offline_access']);
    assert.equal(c.get('salesforce')!.proxy?.base_url, '${connectionConfig.instance_url}');
    assert.equal(c.get('slack')!.scope_separator, ',');
    assert.equal(c.get('github')!.scope_separator, ' ', 'default separator applies');
    assert.equal(c.get('stripe')!.proxy?.headers?.Authorization, 'Bearer ${apiKey}');
    assert.throws(() => ((c.get('github')!.proxy!.headers as Record<string, string>).Accept = 'x'), TypeError, 'definitions are frozen');
});

test('microsoft endpoints fall back to the common tenant', () => {
    const def = loadCatalogue([]).get('microsoft-teams')!;
    const url = def.token_url as string;
    assert.equal(interpolate(url, { connectionConfig: {}, credentials: {} }), 'https://login.microsoftonline.com/common/oauth2/v2.0/token');
    assert.equal(
        interpolate(url, { connectionConfig: { tenant: 'contoso.com' }, credentials: {} }),
        'https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token'
    );
});

test('an extra file replaces a built-in entry and may alias one', () => {
    const c = loadCatalogue([
        file(`
github:
  display_name: GitHub Enterprise
  auth_mode: OAUTH2
  authorization_url: https://ghe.example.com/login/oauth/authorize
  token_url: https://ghe.example.com/login/oauth/access_token
acme-mail:
  alias: google-mail
  display_name: Acme Mail
  authorization_params:
    login_hint: someone@acme.example
  proxy:
    headers:
      X-Acme: '1'
`)
    ]);
    const gh = c.get('github')!;
    assert.equal(gh.display_name, 'GitHub Enterprise');
    assert.equal(gh.proxy, undefined, 'replaced whole, not merged');
    const acme = c.get('acme-mail')!;
    assert.equal(acme.auth_mode, 'OAUTH2');
    assert.equal(acme.proxy?.base_url, 'https://gmail.googleapis.com');
    assert.deepEqual(acme.proxy?.headers, { 'X-Acme': '1' });
    assert.deepEqual(acme.authorization_params, { response_type: 'code', access_type: 'offline', prompt: 'consent', login_hint: 'someone@acme.example' });
    assert.equal(acme.revocation_url, 'https://oauth2.googleapis.com/revoke');
});

test('overriding a base provider reaches the providers that alias it', () => {
    const c = loadCatalogue([
        file(`
google:
  display_name: Google (proxied)
  auth_mode: OAUTH2
  authorization_url: https://accounts.google.com/o/oauth2/v2/auth
  token_url: https://oauth2.example.com/token
`)
    ]);
    assert.equal(c.get('google-calendar')!.token_url, 'https://oauth2.example.com/token');
    assert.equal(c.get('google-calendar')!.revocation_url, undefined);
});

test('publicProvider adds name and logo_url', () => {
    const c = loadCatalogue([]);
    const p = publicProvider('slack', c.get('slack')!, 'https://switchboard.example/');
    assert.equal(p.name, 'slack');
    assert.equal(p.logo_url, 'https://switchboard.example/images/template-logos/slack.svg');
    assert.equal(p.display_name, 'Slack');
});

test('invalid files are refused, naming file, provider and field', () => {
    const base = 'display_name: Acme\n  auth_mode: API_KEY\n  docs: https://acme.example/docs';
    refuses(`acme:\n  ${base}\n  scope_seperator: ','\n`, 'acme', /: scope_seperator: unknown key, did you mean "scope_separator"\?/);
    refuses(`acme:\n  ${base}\n  connection_config:\n    host:\n      type: string\n      patern: x\n`, 'acme', /connection_config\.host\.patern: .*"pattern"/);
    refuses(
        `acme:\n  ${base}\n  proxy:\n    base_url: https://api.acme.example\n    retries: 3\n`,
        'acme',
        /proxy\.retries: unknown key, did you mean "retry"/
    );
    refuses(`acme:\n  display_name: Acme\n  auth_mode: OAUTH3\n`, 'acme', /auth_mode: .*expected one of/);
    refuses(`acme:\n  ${base}\n  proxy:\n    base_url: 42\n`, 'acme', /proxy\.base_url: expected string/);
    refuses(`acme:\n  alias: nowhere\n  display_name: Acme\n`, 'acme', /alias: unknown provider "nowhere"/);
    refuses(`a:\n  alias: b\n  display_name: A\nb:\n  alias: a\n  display_name: B\n`, 'b', /alias: cycle a -> b -> a/);
    refuses(`acme:\n  display_name: Acme\n`, 'acme', /auth_mode: /);
    refuses(
        `acme:\n  display_name: Acme\n  auth_mode: OAUTH2\n  token_url: https://acme.example/token\n`,
        'acme',
        /authorization_url: required for auth_mode OAUTH2/
    );
    refuses(`acme:\n  ${base}\n  proxy:\n    base_url: http://api.acme.example\n`, 'acme', /proxy\.base_url: expected an https:\/\/ URL/);
    refuses(`acme:\n  ${base}\n  proxy:\n    headers:\n      X-Key: \${apikey}\n`, 'acme', /proxy\.headers\.X-Key: invalid template/);
    refuses(
        `acme:\n  ${base}\n  proxy:\n    paginate:\n      type: cursor\n      cursor_name_in_request: after\n`,
        'acme',
        /proxy\.paginate\.cursor_path_in_response/
    );
    refuses(
        `acme:\n  ${base}\n  connection_config:\n    region:\n      type: string\n      pattern: '['\n`,
        'acme',
        /connection_config\.region\.pattern: expected a valid regular expression/
    );
    refuses(`acme:\n  ${base}\n  token_url:\n    OAUTH9: https://acme.example/token\n`, 'acme', /token_url\.OAUTH9: invalid key, expected an auth mode/);
    refuses(`acme:\n  ${base}\n  proxy:\n    base_url_allowlist: ['10.0.0.1:80']\n`, 'acme', /proxy\.base_url_allowlist\.0: expected a lowercase hostname/);
    refuses(`"bad name":\n  ${base}\n`, 'bad name', /invalid provider name/);
});

test('templates cannot select the implicit or password grant (docs/security.md, item 8)', () => {
    const oauth = 'display_name: Acme\n  auth_mode: OAUTH2\n  authorization_url: https://acme.example/authorize\n  token_url: https://acme.example/token';
    refuses(`acme:\n  ${oauth}\n  authorization_params:\n    response_type: token\n`, 'acme', /authorization_params\.response_type: only "code" is allowed/);
    refuses(`acme:\n  ${oauth}\n  authorization_params:\n    response_type: code token\n`, 'acme', /authorization_params\.response_type/);
    refuses(`acme:\n  ${oauth}\n  token_params:\n    grant_type: password\n`, 'acme', /token_params\.grant_type: the password grant is not allowed/);
    refuses(`acme:\n  ${oauth}\n  refresh_params:\n    grant_type: Password\n`, 'acme', /refresh_params\.grant_type/);
    refuses(
        `acme:\n  ${oauth}\n  authorization_params:\n    redirect_uri: https://evil.example/cb\n`,
        'acme',
        /authorization_params\.redirect_uri: is set by the broker/
    );
    refuses(`acme:\n  ${oauth}\n  authorization_params:\n    code_challenge_method: plain\n`, 'acme', /code_challenge_method: is set by the broker/);
    // An alias cannot smuggle one in either: the merged definition is validated too.
    refuses(`acme:\n  alias: google\n  display_name: Acme\n  token_params:\n    grant_type: password\n`, 'acme', /token_params\.grant_type/);
});

test('unreadable and malformed files are refused naming the file', () => {
    const missing = join(dir, 'nope.yaml');
    assert.throws(
        () => loadCatalogue([missing]),
        (err: unknown) => err instanceof CatalogueError && err.file === missing && err.provider === undefined
    );
    assert.throws(() => loadCatalogue([file('- a\n- b\n')]), /expected a map of provider name to definition/);
    assert.throws(() => loadCatalogue([file('acme:\n  display_name: A\nacme:\n  display_name: B\n')]), /cannot read/);
});

test('the built-in catalogue is every builtin/*.yaml; a name in two of them is refused naming both files', () => {
    const builtin = mkdtempSync(join(tmpdir(), 'switchboard-builtin-'));
    const entry = (name: string) => `${name}:\n  display_name: ${name}\n  auth_mode: NONE\n  docs: https://example.com/${name}\n  categories: [other]\n`;
    writeFileSync(join(builtin, 'a.yaml'), entry('alpha') + entry('shared'));
    writeFileSync(join(builtin, 'b.yaml'), entry('beta'));
    writeFileSync(join(builtin, 'notes.txt'), 'not a providers file');
    const c = loadCatalogue([], { builtinDir: builtin });
    assert.deepEqual(
        c.list().map(([name]) => name),
        ['alpha', 'beta', 'shared']
    );
    // An operator file may still replace a built-in entry by name.
    assert.equal(
        loadCatalogue([file(entry('beta').replace('display_name: beta', 'display_name: Beta (ours)'))], { builtinDir: builtin }).get('beta')?.display_name,
        'Beta (ours)'
    );

    writeFileSync(join(builtin, 'c.yaml'), entry('shared'));
    assert.throws(
        () => loadCatalogue([], { builtinDir: builtin }),
        (err: unknown) => {
            assert.ok(err instanceof CatalogueError);
            assert.equal(err.file, join(builtin, 'c.yaml'));
            assert.equal(err.provider, 'shared');
            assert.match(err.message, new RegExp(`defined again: the built-in file ${join(builtin, 'a.yaml')} already defines it`));
            return true;
        }
    );
    // The shipped catalogue spans several files and loads.
    assert.ok(loadCatalogue().list().length >= 250);
});

const ctx: InterpolationContext = {
    connectionConfig: { subdomain: 'acme', empty: '', port: 8443, nested: { id: 'n1' } },
    credentials: { token_id: 't-1' },
    accessToken: 'at-1',
    apiKey: 'key-1',
    username: 'user',
    password: 'p@ss:word'
};

test('interpolate fills variables', () => {
    assert.equal(interpolate('https://${connectionConfig.subdomain}.zendesk.com/api', ctx), 'https://acme.zendesk.com/api');
    assert.equal(interpolate('Bearer ${accessToken}', ctx), 'Bearer at-1');
    assert.equal(interpolate('${apiKey}|${credentials.token_id}|${connectionConfig.port}|${connectionConfig.nested.id}', ctx), 'key-1|t-1|8443|n1');
    assert.equal(interpolate('no placeholders, $ and } alone', ctx), 'no placeholders, $ and } alone');
});

test('interpolate falls back with ||', () => {
    assert.equal(interpolate("${connectionConfig.tenant || 'common'}", ctx), 'common');
    assert.equal(interpolate('${connectionConfig.empty || "x"}', ctx), 'x', 'empty string counts as missing');
    assert.equal(interpolate('${connectionConfig.missing || connectionConfig.subdomain || "z"}', ctx), 'acme');
    assert.equal(interpolate("${ connectionConfig.subdomain || 'unused' }", ctx), 'acme');
});

test('interpolate base64-encodes the interpolated inner text', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    assert.equal(interpolate('Basic ${base64(${username}:${password})}', ctx), `Basic ${b64('user:p@ss:word')}`);
    assert.equal(interpolate('Basic ${base64(${apiKey}:)}', ctx), `Basic ${b64('key-1:')}`);
    assert.equal(interpolate("${base64(${connectionConfig.nope}:x) || 'fallback'}", ctx), 'fallback');
});

test('interpolate names the missing variable', () => {
    const noToken = { connectionConfig: {}, credentials: {} };
    assert.throws(
        () => interpolate('Bearer ${accessToken}', noToken),
        (err: unknown) =>
            err instanceof InterpolationError && err.reason === 'missing' && err.variable === 'accessToken' && /\$\{accessToken\}/.test(err.message)
    );
    assert.throws(() => interpolate('https://${connectionConfig.subdomain}.x.com', noToken), { variable: 'connectionConfig.subdomain' });
    assert.throws(() => interpolate('${base64(${username}:${password})}', { ...noToken, username: 'u' }), { variable: 'password' });
    // Inherited properties are not values: no reaching into Object.prototype.
    assert.throws(() => interpolate('${connectionConfig.constructor}', noToken), { variable: 'connectionConfig.constructor' });
});

test('interpolate refuses malformed templates', () => {
    for (const bad of ['${', '${}', '${accessToken', '${process.env.SECRET}', '${connectionConfig}', '${require("fs")}']) {
        assert.throws(
            () => interpolate(bad, ctx),
            (err: unknown) => err instanceof InterpolationError && err.reason === 'syntax',
            bad
        );
    }
});

test('missingConnectionConfig lists required connectionConfig names only', () => {
    const t = "https://${connectionConfig.subdomain}.${connectionConfig.region || 'us'}.example.com/${connectionConfig.a || connectionConfig.b}?k=${apiKey}";
    assert.deepEqual(missingConnectionConfig(t, {}), ['subdomain', 'a', 'b']);
    assert.deepEqual(missingConnectionConfig(t, { subdomain: 's', b: 'b' }), []);
    assert.deepEqual(missingConnectionConfig('${base64(${connectionConfig.user}:${password})}', {}), ['user']);
});

// Issue #10 item 1: each value is checked and encoded for its place in a URL, so it cannot move the endpoint.
test('interpolateUrl: host values cannot leave the host, path and query values are encoded', () => {
    const cc = (connectionConfig: Record<string, unknown>): InterpolationContext => ({ connectionConfig, credentials: {} });
    const host = 'https://${connectionConfig.sub}.example.com/oauth/token';
    assert.equal(interpolateUrl(host, cc({ sub: 'acme.eu' })), 'https://acme.eu.example.com/oauth/token');
    for (const bad of ['attacker.example/x?', 'a@b', 'a:1', 'a\\b', 'a#b', 'a?b', 'a%2fb', 'a b', '']) {
        if (bad === '') continue; // empty counts as missing
        assert.throws(
            () => interpolateUrl(host, cc({ sub: bad })),
            (e: unknown) => e instanceof InterpolationError && e.reason === 'invalid' && e.variable === 'connectionConfig.sub',
            bad
        );
    }
    const path = "https://login.example.com/${connectionConfig.tenant || 'common'}/token?t=${connectionConfig.tenant || 'x'}#${connectionConfig.tenant}";
    assert.equal(interpolateUrl(path, cc({ tenant: 'a/b?c#d' })), 'https://login.example.com/a%2Fb%3Fc%23d/token?t=a%2Fb%3Fc%23d#a%2Fb%3Fc%23d');
    assert.equal(
        interpolateUrl(path.replace('#${connectionConfig.tenant}', ''), cc({})),
        'https://login.example.com/common/token?t=x',
        'literals go in as written'
    );
    for (const dots of ['.', '..']) assert.throws(() => interpolateUrl(path, cc({ tenant: dots })), /"\." and "\.\." are not allowed/);
    const origin = '${connectionConfig.instance_url}/services';
    assert.equal(interpolateUrl(origin, cc({ instance_url: 'https://eu1.my.example.com/' })), 'https://eu1.my.example.com/services');
    for (const bad of [
        'http://evil.example',
        'https://u:p@evil.example',
        'https://evil.example?x',
        'https://evil.example#x',
        'evil.example',
        'javascript:alert(1)'
    ]) {
        assert.throws(() => interpolateUrl(origin, cc({ instance_url: bad })), InterpolationError, bad);
    }
    // Values that are not connection config get the same place rules (revocation URLs carry tokens in the path).
    assert.equal(
        interpolateUrl('https://api.example.com/grants/${clientId}/${credentials.token}', {
            connectionConfig: {},
            credentials: { token: 'a/../b' },
            clientId: 'id?x'
        }),
        'https://api.example.com/grants/id%3Fx/a%2F..%2Fb'
    );
});

test('a URL template may only read declared connection_config fields', () => {
    refuses(
        `
undeclared:
  display_name: U
  auth_mode: OAUTH2
  authorization_url: https://\${connectionConfig.subdomain}.example.com/auth
  token_url: https://example.com/token
`,
        'undeclared',
        /authorization_url: uses \$\{connectionConfig\.subdomain\} but connection_config does not declare "subdomain"/
    );
    refuses(
        `
undeclared-base:
  display_name: U
  auth_mode: API_KEY
  proxy:
    base_url: https://api.example.com/\${connectionConfig.region || 'us'}
`,
        'undeclared-base',
        /proxy\.base_url: uses \$\{connectionConfig\.region\}/
    );
});

test('connectionConfigIssues: the browser sets only declared, non-automated fields; patterns hold for everyone', () => {
    const def = loadCatalogue([
        file(`
fields:
  display_name: F
  auth_mode: API_KEY
  connection_config:
    subdomain: { type: string, pattern: '[a-z]+' }
    instance_url: { type: string, format: uri, automated: true }
`)
    ]).get('fields')!;
    assert.deepEqual(connectionConfigIssues(def, { subdomain: 'acme' }, 'browser'), []);
    assert.deepEqual(
        connectionConfigIssues(def, { subdomain: 'acme.evil' }, 'browser').map((i) => i.key),
        ['subdomain'],
        'patterns match in full'
    );
    assert.deepEqual(
        connectionConfigIssues(def, { other: 'x', instance_url: 'https://a.example.com' }, 'browser').map((i) => i.key),
        ['other', 'instance_url']
    );
    assert.deepEqual(
        connectionConfigIssues(def, { other: 'x', instance_url: 'https://a.example.com' }, 'app'),
        [],
        'the app may set automated fields and keep its own keys'
    );
    assert.deepEqual(
        connectionConfigIssues(def, { subdomain: 'ACME' }, 'app').map((i) => i.key),
        ['subdomain']
    );
});

// ---- Nango's schema in full (issue #15 item 1)

const EVERY_FIELD = fileURLToPath(new URL('./fixtures/providers/every-field.yaml', import.meta.url));

/** Every key the fixture uses at `path` (a map's own keys for records: connection_config.<name>.*). */
function keysAt(doc: Record<string, unknown>, path: string[]): Set<string> {
    const out = new Set<string>();
    const walk = (node: unknown, rest: string[]) => {
        if (!node || typeof node !== 'object') return;
        if (Array.isArray(node)) return node.forEach((n) => walk(n, rest));
        if (rest.length === 0) return Object.keys(node).forEach((k) => out.add(k));
        const [head, ...tail] = rest;
        for (const [k, v] of Object.entries(node)) if (head === '*' || head === k) walk(v, tail);
    };
    walk(doc, ['*', ...path]);
    return out;
}

test('a file with every field of the schema (Nango 0.71.x and our extensions) loads, with nothing ignored', () => {
    const c = loadCatalogue([EVERY_FIELD]);
    assert.deepEqual(c.ignoredKeys, []);
    const doc = parseYaml(readFileSync(EVERY_FIELD, 'utf8')) as Record<string, unknown>;
    const expect = (path: string[], known: string[]) => {
        const used = keysAt(doc, path);
        for (const k of known) assert.ok(used.has(k), `the fixture does not use ${[...path, k].join('.')}`);
    };
    expect([], Object.keys(providerFields));
    expect(['proxy'], Object.keys(proxySchema.shape));
    expect(['proxy', 'retry'], knownKeysAt(proxySchema, ['retry']));
    expect(['proxy', 'verification'], knownKeysAt(proxySchema, ['verification']));
    expect(['connection_config', '*'], Object.keys(fieldSchema.shape));
    expect(['token'], knownKeysAt(providerEntrySchema, ['token']));
    expect(['token_response'], knownKeysAt(providerEntrySchema, ['token_response']));
    expect(['additional_steps'], knownKeysAt(providerEntrySchema, ['additional_steps', 0]));
    expect(['assertion'], knownKeysAt(providerEntrySchema, ['assertion']));
    // Values Nango's files use that a stricter reading would refuse.
    const retry = c.get('every-oauth2')!.proxy!.retry!;
    assert.deepEqual(retry.at, ['x-ratelimit-reset', 'x-rate-limit-reset']);
    assert.deepEqual(retry.error_code, ['5xx', 429, '403']);
    assert.equal(c.get('every-oauth2')!.credentials!['apiKey']!.secret, true);
    assert.deepEqual(c.get('every-oauth2')!.connection_config!['region']!.enum, ['us', 'eu']);
});

test('unknown keys are dropped and reported per file; near misses of a known key refuse the start', () => {
    const path = file(
        'acme:\n  display_name: Acme\n  auth_mode: API_KEY\n  docs: https://acme.example/docs\n  colour: red\n' +
            '  proxy:\n    base_url: https://api.acme.example\n    sparkle: true\n  connection_config:\n    host:\n      type: string\n      tooltip: hi\n'
    );
    const c = loadCatalogue([path]);
    assert.equal(c.ignoredKeys.length, 1);
    assert.equal(c.ignoredKeys[0]!.file, path);
    assert.deepEqual([...c.ignoredKeys[0]!.keys].sort(), ['acme.colour', 'acme.connection_config.host.tooltip', 'acme.proxy.sparkle']);
    const def = c.get('acme')! as Record<string, unknown>;
    assert.equal(def['colour'], undefined);
    assert.equal(c.get('acme')!.proxy!.base_url, 'https://api.acme.example');
    // A typo is refused even next to a good key, naming both; the rule is about the keys known at that place.
    const base = 'display_name: Acme\n  auth_mode: API_KEY\n  docs: https://acme.example/docs';
    refuses(
        `acme:\n  ${base}\n  proxy:\n    base_url: https://api.acme.example\n    decompres: true\n`,
        'acme',
        /proxy\.decompres: unknown key, did you mean "decompress"/
    );
    refuses(`acme:\n  ${base}\n  Display_Name: Acme\n`, 'acme', /Display_Name: unknown key, did you mean "display_name"/);
    refuses(`acme:\n  ${base}\n  proxy:\n    base_url: https://api.acme.example\n    retry:\n      error_code: ['6xx']\n`, 'acme', /error_code\.0: /);
    // Unknown keys do not excuse a bad value elsewhere.
    refuses(`acme:\n  ${base}\n  colour: red\n  proxy:\n    base_url: 42\n`, 'acme', /proxy\.base_url: expected string/);
});

test("interpolateUrl: Nango's whole-URL alternatives, the first whose values are all present; a refused value is never skipped", () => {
    const t = 'https://${connectionConfig.hostname} || https://api.example.com';
    assert.equal(interpolateUrl(t, { connectionConfig: { hostname: 'eu.example.com' }, credentials: {} }), 'https://eu.example.com');
    assert.equal(interpolateUrl(t, { connectionConfig: {}, credentials: {} }), 'https://api.example.com');
    assert.throws(() => interpolateUrl(t, { connectionConfig: { hostname: 'evil.example/x?' }, credentials: {} }), /host name/);
    const c = loadCatalogue([
        file(
            'acme:\n  display_name: Acme\n  auth_mode: API_KEY\n  connection_config:\n    hostname:\n      type: string\n      optional: true\n  proxy:\n    base_url: https://${connectionConfig.hostname} || https://api.acme.example\n'
        )
    ]);
    assert.ok(c.get('acme'));
    refuses(
        'acme:\n  display_name: Acme\n  auth_mode: API_KEY\n  proxy:\n    base_url: https://api.acme.example || http://plain.acme.example\n',
        'acme',
        /proxy\.base_url: expected an https/
    );
});
