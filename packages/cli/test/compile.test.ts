import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '../src/load.ts';
import { cli, copyFixture, project, SYNC } from './helpers.ts';

test('zero-YAML compile: bundles are CommonJS whose default export is the plain definition object', async () => {
    const dir = copyFixture('zero-yaml');
    const res = await cli(['compile', '--dir', dir]);
    assert.equal(res.code, 0, res.err);
    const code = readFileSync(join(dir, 'build/google-calendar_syncs_events.cjs'), 'utf8');
    assert.match(code, /require\("zod"\)/);
    assert.doesNotMatch(code, /require\("nango"\)/);
    assert.doesNotMatch(code, /sourceMappingURL/);
    const def = loadBundle(code, 'events')['default'] as Record<string, unknown>;
    assert.equal(def['type'], 'sync');
    assert.equal(def['frequency'], 'every 5 minutes');
    assert.equal(typeof def['exec'], 'function');
    const action = loadBundle(readFileSync(join(dir, 'build/google-calendar_actions_create-event.cjs'), 'utf8'), 'a')['default'] as Record<string, unknown>;
    assert.equal(action['type'], 'action');
    const onEvent = loadBundle(readFileSync(join(dir, 'build/google-calendar_on-events_setup.cjs'), 'utf8'), 'o')['default'] as Record<string, unknown>;
    assert.equal(onEvent['type'], 'onEvent');
    assert.equal(onEvent['event'], 'post-connection-creation');
});

test('zero-YAML compile: .nango/nango.json definitions and JSON schemas', async () => {
    const dir = copyFixture('zero-yaml');
    assert.equal((await cli(['compile', '--dir', dir])).code, 0);
    const [entry] = JSON.parse(readFileSync(join(dir, '.nango/nango.json'), 'utf8')) as Array<Record<string, any>>;
    assert.equal(entry!['providerConfigKey'], 'google-calendar');
    const sync = entry!['syncs'][0];
    assert.equal(sync.name, 'events');
    assert.equal(sync.runs, 'every 5 minutes');
    assert.equal(sync.auto_start, true);
    assert.equal(sync.sync_type, 'full');
    assert.equal(sync.input, 'SyncMetadata_google_calendar_events');
    assert.deepEqual(sync.output, ['CalendarEvent']);
    assert.deepEqual(sync.features, ['checkpoints']);
    assert.deepEqual(sync.json_schema.definitions.CalendarEvent, {
        type: 'object',
        properties: {
            id: { type: 'string' },
            title: { type: 'string' },
            startsAt: { type: ['string', 'null'] },
            updated: { type: 'string', format: 'date-time' }
        },
        required: ['id', 'title', 'startsAt'],
        additionalProperties: false
    });
    assert.deepEqual(sync.json_schema.definitions.SyncMetadata_google_calendar_events.required, ['calendarId']);
    const action = entry!['actions'][0];
    assert.equal(action.input, 'ActionInput_google_calendar_createevent');
    assert.deepEqual(action.output, ['ActionOutput_google_calendar_createevent']);
    assert.deepEqual(action.endpoint, { method: 'POST', path: '/events', group: 'Events' });
    assert.equal(action.json_schema.definitions.ActionInput_google_calendar_createevent.properties.when.format, 'date-time');
    assert.deepEqual(entry!['onEventScripts']['post-connection-creation'], ['setup']);
});

test('autoStart is deployed true only when explicitly true', async () => {
    const dir = project({
        'index.ts': "import './x/syncs/s.js';\n",
        'x/syncs/s.ts': SYNC(
            "export default createSync({ description: 'd', frequency: 'every hour', models: { Item: z.object({ id: z.string() }) }, exec: async () => {} });"
        )
    });
    assert.equal((await cli(['compile', '--dir', dir])).code, 0);
    const [entry] = JSON.parse(readFileSync(join(dir, '.nango/nango.json'), 'utf8')) as Array<Record<string, any>>;
    assert.equal(entry!['syncs'][0].auto_start, false);
    assert.deepEqual(entry!['syncs'][0].features, []);
});

const badSync = (fields: string): Record<string, string> => ({
    'index.ts': "import './x/syncs/s.js';\n",
    'x/syncs/s.ts': SYNC(`export default createSync({ description: 'd', exec: async () => {}, ${fields} });`)
});

const errorCases: Array<[string, Record<string, string>, string, RegExp]> = [
    [
        'forbidden import',
        {
            'index.ts': "import './x/actions/a.js';\n",
            'x/actions/a.ts':
                "import axios from 'axios';\nimport { createAction } from 'nango';\nimport * as z from 'zod';\nexport default createAction({ description: 'd', input: z.object({}), output: z.object({}), exec: async () => { await axios.get('x'); return {}; } });"
        },
        'FORBIDDEN_IMPORT',
        /x\/actions\/a\.ts: package "axios" cannot be imported/
    ],
    [
        'bad frequency',
        badSync("frequency: 'every fortnight', models: { Item: z.object({ id: z.string() }) }"),
        'INVALID_FREQUENCY',
        /x\/syncs\/s\.ts: "every fortnight" is not a frequency/
    ],
    [
        'frequency under 30 s',
        badSync("frequency: 'every 10 seconds', models: { Item: z.object({ id: z.string() }) }"),
        'INVALID_FREQUENCY',
        /shorter than the 30 second minimum/
    ],
    [
        'model without id',
        badSync("frequency: 'every hour', models: { Item: z.object({ name: z.string() }) }"),
        'INVALID_MODEL',
        /model "Item" must have an "id" field/
    ],
    ['bad model name', badSync("frequency: 'every hour', models: { item: z.object({ id: z.string() }) }"), 'INVALID_MODEL', /model name "item" must match/],
    [
        'named value export',
        {
            'index.ts': "import './x/syncs/s.js';\n",
            'x/syncs/s.ts': SYNC(
                "export const helper = 1;\nexport type T = string;\nexport default createSync({ description: 'd', frequency: 'every hour', models: { Item: z.object({ id: z.string() }) }, exec: async () => {} });"
            )
        },
        'NAMED_EXPORT',
        /x\/syncs\/s\.ts: only a default export is allowed \(found named export helper\)/
    ],
    ['missing index.ts', { 'x/syncs/s.ts': '' }, 'INDEX_MISSING', /index\.ts: not found/],
    ['missing required property', badSync('models: { Item: z.object({ id: z.string() }) }'), 'INVALID_DEFINITION', /frequency/]
];

for (const [name, files, code, message] of errorCases) {
    test(`compile error: ${name}`, async () => {
        const res = await cli(['compile', '--dir', project(files)]);
        assert.equal(res.code, 1);
        assert.match(res.err, new RegExp(`error \\[${code}\\]`));
        assert.match(res.err, message);
    });
}

test('all failing scripts are reported in one run', async () => {
    const files = {
        ...badSync("frequency: 'every 1s', models: { Item: z.object({ id: z.string() }) }"),
        'index.ts': "import './x/syncs/s.js';\nimport './x/syncs/t.js';\n",
        'x/syncs/t.ts': "import _ from 'lodash';\nexport default _;"
    };
    const res = await cli(['compile', '--dir', project(files)]);
    assert.equal(res.code, 1);
    assert.match(res.err, /INVALID_FREQUENCY/);
    assert.match(res.err, /package "lodash"/);
});
