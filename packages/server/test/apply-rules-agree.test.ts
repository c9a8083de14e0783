// @switchboard/apply repeats some of the server's validation rules (unique keys, provider and environment names,
// scopes, credential types) so a config file's mistake names its line before any request is sent. It cannot import
// the server's schemas: the server depends on it (SWITCHBOARD_CONFIG), and the operator would pull the server in.
// This test keeps the two copies in step: both accept and refuse the same values.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsSchema, environmentNameSchema, integrationSchema, uniqueKeySchema as fileUniqueKey } from '@switchboard/apply';
import { integrationCredentialsSchema, providerNameSchema, uniqueKeySchema } from '../src/integrations/schemas.ts';
import { ENVIRONMENT_NAME } from '../src/environments/environments.ts';

const agree = (what: string, values: unknown[], file: (v: unknown) => boolean, server: (v: unknown) => boolean) => {
    for (const v of values) assert.equal(file(v), server(v), `${what} ${JSON.stringify(v)}: the config file says ${file(v)}, the server ${server(v)}`);
};
const ok = (schema: { safeParse: (v: unknown) => { success: boolean } }) => (v: unknown) => schema.safeParse(v).success;

it('unique keys, provider names and environment names follow the same rules in a config file and on the server', () => {
    const keys = ['github-my-app', 'a', 'with space', 'x~y:z.w@v_u', '', 'émoji', 'a/b', 'k'.repeat(255), 'k'.repeat(256), 'semi;colon'];
    agree('unique key', keys, ok(fileUniqueKey), ok(uniqueKeySchema));
    agree(
        'provider',
        ['github', 'github-app', 'google_mail', 'with space', '', 'a.b', 'p'.repeat(256)],
        ok(integrationSchema.shape.provider),
        ok(providerNameSchema)
    );
    const envs = ['dev', 'prod-eu_1', 'Dev', '-dev', '', 'e'.repeat(63), 'e'.repeat(64), 'a b', '0day'];
    agree('environment name', envs, ok(environmentNameSchema), (v) => typeof v === 'string' && ENVIRONMENT_NAME.test(v));
});

it('credentials types and scope lists follow the same rules', () => {
    const oauth = (extra: Record<string, unknown>) => ({ type: 'OAUTH2', client_id: 'id', client_secret: 'secret', ...extra });
    const values = [
        oauth({}),
        oauth({ scopes: 'repo,user' }),
        oauth({ scopes: 'https://www.googleapis.com/auth/gmail.readonly,openid' }),
        oauth({ scopes: 'repo user' }),
        oauth({ scopes: 'repo,,user' }),
        oauth({ scopes: '' }),
        oauth({ type: 'OAUTH1' }),
        oauth({ type: 'TBA' }),
        oauth({ type: 'BASIC' }),
        oauth({ client_id: '' }),
        oauth({ unknown: 1 }),
        { type: 'APP', app_id: '1', app_link: 'https://github.com/apps/x' }
    ];
    agree('credentials', values, ok(credentialsSchema), ok(integrationCredentialsSchema));
});
