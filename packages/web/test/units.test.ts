// Pure parts of the Connect UI: language choice, strings, field derivation and validation, error wording, theme.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { pickLang, translator } from '../src/i18n.ts';
import { flowOf, formFields, validate } from '../src/fields.ts';
import { isFatal, isFormError, messageKey, toUiError } from '../src/errors.ts';
import { onColour, resolveTheme, safeColour } from '../src/theme.ts';
import { websocketsPathFor } from '../src/websockets-path.ts';
import type { Provider } from '../src/api.ts';

it('picks the language from lang, then the browser, then English', () => {
    assert.equal(pickLang('fr', ['en-US']), 'fr');
    assert.equal(pickLang('FR-ca', []), 'fr');
    assert.equal(pickLang('de', ['fr-FR', 'en']), 'fr');
    assert.equal(pickLang(null, ['de-DE']), 'en');
    assert.equal(translator('fr')('connectTo', { name: 'Stripe' }), 'Connexion à Stripe');
});

it('derives the form from the provider and validates values', () => {
    const t = translator('en');
    const provider: Provider = {
        name: 'acme',
        display_name: 'Acme',
        auth_mode: 'API_KEY',
        credentials: { apiKey: { type: 'string', title: 'Token', pattern: '^tk_', secret: true } },
        connection_config: {
            subdomain: { type: 'string', title: 'Subdomain', format: 'hostname' },
            region: { type: 'string', optional: true },
            instance: { type: 'string', automated: true },
            preset: { type: 'string' }
        }
    };
    const fields = formFields(provider, 'acme', { integrations_config_defaults: { acme: { connection_config: { preset: 'x' } } } }, t);
    assert.deepEqual(
        fields.map((f) => f.id),
        ['credential.apiKey', 'param.subdomain', 'param.region']
    );
    const [key, subdomain, region] = fields as [(typeof fields)[0], (typeof fields)[0], (typeof fields)[0]];
    assert.equal(key.label, 'Token');
    assert.equal(validate(key, ''), 'required');
    assert.equal(validate(key, 'nope'), 'invalidFormat');
    assert.equal(validate(key, 'tk_1'), undefined);
    assert.equal(validate(subdomain, 'bad host!'), 'invalidFormat');
    assert.equal(validate(region, ''), undefined);
    assert.equal(flowOf('OAUTH2'), 'oauth');
    assert.equal(flowOf('BASIC'), 'basic');
    assert.equal(flowOf('TBA'), 'tba');
    assert.equal(flowOf('SIGNATURE'), 'signature');
    assert.equal(flowOf('BILL'), 'bill');
    assert.equal(flowOf('TWO_STEP'), 'two_step');
    assert.equal(flowOf('JWT'), 'jwt');
    assert.equal(flowOf('AWS_SIGV4'), 'aws_sigv4');
    assert.equal(flowOf('MCP_OAUTH2'), 'oauth');
    assert.equal(flowOf('MCP_OAUTH2_GENERIC'), 'unsupported');
    const twoStep: Provider = {
        name: 'acme',
        display_name: 'Acme',
        auth_mode: 'TWO_STEP',
        credentials: { pass: { type: 'string', title: 'Pass', secret: true, order: 2 }, user: { type: 'string', title: 'User', order: 1 } },
        connection_config: { region: { type: 'string', title: 'Region', enum: ['us', 'eu'] } }
    };
    const f = formFields(twoStep, 'acme', undefined, t);
    assert.deepEqual(
        f.map((x) => x.id),
        ['credential.user', 'credential.pass', 'param.region']
    );
    assert.equal(validate(f[2]!, 'mars'), 'invalidFormat');
    assert.equal(validate(f[2]!, 'eu'), undefined);
    const basic = formFields({ name: 'b', display_name: 'B', auth_mode: 'BASIC' }, 'b', undefined, t);
    assert.deepEqual(
        basic.map((f) => [f.name, f.secret, f.label]),
        [
            ['username', false, 'Username'],
            ['password', true, 'Password']
        ]
    );
    // TBA asks for the token and the provider's account id; Bill for its four login values.
    const tba = formFields(
        { name: 'n', display_name: 'N', auth_mode: 'TBA', connection_config: { accountId: { type: 'string', title: 'Account ID' } } },
        'n',
        undefined,
        t
    );
    assert.deepEqual(
        tba.map((f) => [f.id, f.secret]),
        [
            ['credential.token_id', false],
            ['credential.token_secret', true],
            ['param.accountId', false]
        ]
    );
    // AWS: an access key by default, or a role (its ARN; region and service may be the integration's).
    const aws: Provider = { name: 'aws', display_name: 'AWS', auth_mode: 'AWS_SIGV4' };
    assert.deepEqual(
        formFields(aws, 'aws', undefined, t).map((f) => f.name),
        ['access_key_id', 'secret_access_key', 'region', 'service']
    );
    assert.deepEqual(
        formFields(aws, 'aws', undefined, t, 'role').map((f) => [f.name, f.required]),
        [
            ['role_arn', true],
            ['region', false],
            ['service', false]
        ]
    );
    const bill = formFields({ name: 'bill', display_name: 'Bill', auth_mode: 'BILL' }, 'bill', undefined, t);
    assert.deepEqual(
        bill.map((f) => [f.name, f.secret, f.label]),
        [
            ['username', false, 'Username'],
            ['password', true, 'Password'],
            ['organization_id', false, 'Organization ID'],
            ['dev_key', true, 'Developer key']
        ]
    );
});

it('words errors for people and knows which are final', () => {
    assert.equal(messageKey('unknown_connect_session_token'), 'errSessionExpired');
    assert.equal(messageKey('window_closed'), 'errWindowClosed');
    assert.equal(messageKey('blocked_by_browser'), 'errPopupBlocked');
    assert.equal(messageKey('something_new'), 'errGeneric');
    assert.ok(isFatal('integration_not_allowed'));
    assert.ok(!isFatal('window_closed'));
    assert.ok(isFormError('connection_test_failed'));
    assert.deepEqual(toUiError({ type: 'window_closed', message: 'closed' }), { code: 'window_closed', message: 'closed' });
    assert.deepEqual(toUiError({ code: 'network_error', message: '' }), { code: 'network_error', message: 'network_error' });
});

it('themes: only hex colours, readable text on the primary colour, system mode follows the OS', () => {
    assert.equal(safeColour('#abc'), '#abc');
    assert.equal(safeColour('red;background:url(x)'), undefined);
    assert.equal(onColour('#2563eb'), '#ffffff');
    assert.equal(onColour('#fde047'), '#111827');
    const settings = { mode: 'system' as const, primary: { light: '#2563eb', dark: '#60a5fa' } };
    assert.equal(resolveTheme(settings, true).scheme, 'dark');
    assert.equal(resolveTheme(settings, true).vars['--sb-primary'], '#60a5fa');
    assert.equal(resolveTheme({ ...settings, mode: 'light' }, true).scheme, 'light');
});

it('repeats the API URL path prefix in the WebSocket path', () => {
    assert.equal(websocketsPathFor('https://x.example.com', undefined), '/');
    assert.equal(websocketsPathFor('https://x.example.com/switchboard/', undefined), '/switchboard/');
    assert.equal(websocketsPathFor('https://x.example.com/sb', 'ws'), '/sb/ws');
});
