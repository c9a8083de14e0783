// The config file loader: every error names the file, the line and the field; values come from the environment
// or from files; YAML and JSON are one format.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigFileError, loadConfigFile, parseConfigText } from '../src/index.ts';

function errorOf(text: string, env: Record<string, string> = {}): ConfigFileError {
    try {
        parseConfigText(text, 'sb.yaml', { env });
    } catch (err) {
        if (err instanceof ConfigFileError) return err;
        throw err;
    }
    assert.fail('the file was accepted');
}

const BASE = `environments:
  dev:
    integrations:
      gh:
        provider: github
        credentials:
          type: OAUTH2
          client_id: abc
          client_secret: xyz
`;

describe('config file', () => {
    it('loads YAML with values from the environment and from files', () => {
        const dir = mkdtempSync(join(tmpdir(), 'sb-apply-'));
        writeFileSync(join(dir, 'secret.txt'), 'from-a-file\n');
        writeFileSync(
            join(dir, 'sb.yaml'),
            BASE.replace('client_secret: xyz', 'client_secret: { fromFile: secret.txt }').replace('client_id: abc', 'client_id: { fromEnv: GH_ID }')
        );
        const { desired } = loadConfigFile(join(dir, 'sb.yaml'), { env: { GH_ID: 'id-from-env' } });
        assert.deepEqual(desired.environments['dev']?.integrations?.['gh']?.credentials, {
            type: 'OAUTH2',
            client_id: 'id-from-env',
            client_secret: 'from-a-file'
        });
    });

    it('reads JSON as well', () => {
        const json = JSON.stringify({ environments: { dev: { integrations: { gh: { provider: 'github', display_name: 'GH' } } } } }, null, 2);
        const { desired } = parseConfigText(json, 'sb.json', { env: {} });
        assert.equal(desired.environments['dev']?.integrations?.['gh']?.display_name, 'GH');
    });

    it('a misspelt field names the file, its line and the field', () => {
        const err = errorOf(BASE.replace('client_secret: xyz', 'client_secet: xyz'));
        const messages = err.message.split('\n');
        assert.ok(
            messages.some((m) => /^sb\.yaml:9:\d+: environments\.dev\.integrations\.gh\.credentials\.client_secet: unknown field/.test(m)),
            err.message
        );
    });

    it('a missing required field names the object that lacks it', () => {
        const err = errorOf(BASE.replace('        provider: github\n', ''));
        assert.match(err.message, /^sb\.yaml:5:\d+: environments\.dev\.integrations\.gh\.provider: required$/m);
    });

    it('a wrong type names the line of the value', () => {
        const err = errorOf(`${BASE}        forward_webhooks: "yes"\n`);
        assert.match(err.message, /^sb\.yaml:10:\d+: environments\.dev\.integrations\.gh\.forward_webhooks: /m);
    });

    it('an unset environment variable names the field that needs it', () => {
        const err = errorOf(BASE.replace('client_secret: xyz', 'client_secret: { fromEnv: NOPE }'));
        assert.match(err.message, /^sb\.yaml:9:\d+: environments\.dev\.integrations\.gh\.credentials\.client_secret: environment variable NOPE is not set$/m);
    });

    it('a bad environment name or unique key is reported at the key', () => {
        assert.match(errorOf(BASE.replace('  dev:', '  Dev Env:')).message, /^sb\.yaml:2:\d+: environments\.Dev Env: invalid name/m);
    });

    it('YAML syntax errors and duplicate keys carry the line', () => {
        assert.match(errorOf(`${BASE}      gh:\n        provider: slack\n`).message, /^sb\.yaml:10:\d+: /m);
        assert.match(errorOf('environments:\n  dev: [\n').message, /^sb\.yaml:\d+:\d+: /m);
    });

    it('a missing file is an error naming it', () => {
        assert.throws(() => loadConfigFile('/nonexistent/sb.yaml', { env: {} }), /\/nonexistent\/sb\.yaml:1:1: cannot read the file: ENOENT/);
    });
});
