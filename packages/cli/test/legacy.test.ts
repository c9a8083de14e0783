import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelConverter } from '../src/legacy/model-types.ts';
import { loadBundle } from '../src/load.ts';
import { cli, copyFixture, project } from './helpers.ts';

test('YAML model type language → JSON schema', () => {
    const c = new ModelConverter({
        Base: { createdAt: 'date' },
        Item: {
            __extends: 'Base',
            id: 'integer',
            tags: 'string[]',
            state: "open | 'in progress' | null",
            n: 3,
            child: { name: 'varchar', 'note?': 'string' },
            refs: 'Base[]',
            list: ['string', 'number'],
            'extra?': { __string: 'bool' }
        }
    });
    assert.deepEqual(c.model('Item'), {
        type: 'object',
        properties: {
            createdAt: { type: 'string', format: 'date-time' },
            id: { type: 'number' },
            tags: { type: 'array', items: { type: 'string' } },
            state: { anyOf: [{ type: 'string', const: 'open' }, { type: 'string', const: 'in progress' }, { type: 'null' }] },
            n: { type: 'number', const: 3 },
            child: { type: 'object', properties: { name: { type: 'string' }, note: { type: 'string' } }, required: ['name'], additionalProperties: false },
            refs: { type: 'array', items: { $ref: '#/definitions/Base' } },
            list: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] } },
            extra: { type: 'object', properties: {}, required: [], additionalProperties: { type: 'boolean' } }
        },
        required: ['createdAt', 'id', 'tags', 'state', 'n', 'child', 'refs', 'list'],
        additionalProperties: false
    });
    assert.deepEqual([...c.referenced], ['Base']);
    assert.throws(() => c.typeString('Record<string, string>', 'x'), /type_syntax_error/);
});

test('legacy compile: nango.yaml scripts bundled with default function and onWebhookPayloadReceived', async () => {
    const dir = copyFixture('legacy');
    const res = await cli(['compile', '--dir', dir]);
    assert.equal(res.code, 0, res.err);
    const exp = loadBundle(readFileSync(join(dir, 'build/github_syncs_issues.cjs'), 'utf8'), 'issues');
    assert.equal(typeof exp['default'], 'function');
    assert.equal(typeof exp['onWebhookPayloadReceived'], 'function');
    const [entry] = JSON.parse(readFileSync(join(dir, '.nango/nango.json'), 'utf8')) as Array<Record<string, any>>;
    const sync = entry!['syncs'][0];
    assert.equal(sync.auto_start, true, 'nango.yaml auto_start defaults to true');
    assert.equal(sync.track_deletes, true);
    assert.deepEqual(sync.scopes, ['repo', 'read:user']);
    assert.deepEqual(sync.endpoints, [{ method: 'GET', path: '/issues' }]);
    assert.deepEqual(Object.keys(sync.json_schema.definitions).sort(), ['Comment', 'GithubIssue', 'RepoMetadata']);
    assert.deepEqual(entry!['actions'][0].endpoint, { method: 'POST', path: '/issues' });
    assert.deepEqual(entry!['onEventScripts']['post-connection-creation'], ['setup']);
});

test('legacy compile: output model without id is refused', async () => {
    const dir = project({
        'nango.yaml': 'integrations:\n  x:\n    syncs:\n      s:\n        runs: every hour\n        output: Thing\nmodels:\n  Thing:\n    name: string\n',
        'x/syncs/s.ts': 'export default async function () {}\n'
    });
    const res = await cli(['compile', '--dir', dir]);
    assert.equal(res.code, 1);
    assert.match(res.err, /\[INVALID_MODEL\] nango\.yaml integrations\.x\.syncs\.s: output model "Thing" must have an "id" field/);
});
