// plan() over the file loader's output and API-shaped current state: the diff names what changes and never a
// secret value; the same state plans nothing; prune only when asked; other environments are not touched.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { formatPlan, parseConfigText, plan, planIntegration, type CurrentState } from '../src/index.ts';
import { snapshotIntegration } from '../src/current.ts';
import { fingerprint } from '../src/fingerprint.ts';

const SECRET = 'very-secret-client-secret-0001';
const NEW_SECRET = 'very-secret-client-secret-0002';
const VAR = 'variable-value-that-is-secret';

const file = (secret: string) =>
    `
environments:
  dev:
    integrations:
      github-my-app:
        provider: github
        display_name: GitHub
        credentials: { type: OAUTH2, client_id: abc, client_secret: { fromEnv: GH_SECRET }, scopes: [repo, user] }
        base_url_allowlist: [https://uploads.github.com]
    variables:
      TOKEN: { fromEnv: VAR }
    webhooks: { url: https://example.com/hook }
`.replace('GH_SECRET', secret);

const load = (text: string, env: Record<string, string> = { GH_SECRET: SECRET, OTHER: NEW_SECRET, VAR }) =>
    parseConfigText(text, 'switchboard.yaml', { env }).desired;

/** What the broker would hold after applying `file(GH_SECRET)` with SECRET. */
function appliedState(): CurrentState {
    return {
        environments: {
            dev: {
                exists: true,
                integrations: {
                    'github-my-app': snapshotIntegration({
                        unique_key: 'github-my-app',
                        provider: 'github',
                        display_name: 'GitHub',
                        forward_webhooks: false,
                        integration_config: { base_url_allowlist: 'https://uploads.github.com' },
                        custom: null,
                        credentials: { type: 'OAUTH2', client_id: 'abc', client_secret: SECRET, scopes: 'repo,user', webhook_secret: null }
                    })
                },
                variables: snapshotVariables({ TOKEN: VAR }),
                webhooks: { url: 'https://example.com/hook', secondary_url: null, secret: undefined }
            }
        }
    };
}

/** Variables as readCurrent() keeps them: a fingerprint per value. */
const snapshotVariables = (v: Record<string, string>) => Object.fromEntries(Object.entries(v).map(([k, value]) => [k, fingerprint({ value })]));

describe('plan', () => {
    it('plans nothing when the broker holds what the file says', () => {
        const p = plan(load(file('GH_SECRET')), appliedState());
        assert.deepEqual(p.actions, [], formatPlan(p).join('\n'));
        assert.deepEqual(formatPlan(p), ['No changes: the broker matches the file.']);
    });

    it('shows a changed secret as changed, with no value anywhere in the plan', () => {
        const p = plan(load(file('OTHER')), appliedState());
        assert.equal(p.actions.length, 1);
        const a = p.actions[0]!;
        assert.equal(a.kind, 'update-integration');
        assert.deepEqual('changes' in a && a.changes, [{ field: 'credentials.client_secret', secret: true, change: 'changed' }]);
        const dumps = [JSON.stringify(p), inspect(p, { showHidden: true, depth: null }), formatPlan(p).join('\n')];
        for (const d of dumps) {
            assert.ok(!d.includes(NEW_SECRET), 'new secret leaked');
            assert.ok(!d.includes(SECRET), 'old secret leaked');
        }
        assert.match(formatPlan(p).join('\n'), /credentials\.client_secret: \(secret changed\)/);
    });

    it('creates everything in an environment that does not exist, secrets never shown', () => {
        const p = plan(load(file('GH_SECRET')), { environments: {} });
        assert.deepEqual(
            p.actions.map((a) => a.kind),
            ['create-environment', 'create-integration', 'set-variables', 'update-webhooks']
        );
        const text = formatPlan(p).join('\n') + JSON.stringify(p);
        assert.ok(!text.includes(SECRET) && !text.includes(VAR));
        assert.match(text, /TOKEN: \(secret set\)/);
    });

    it('deletes an integration the file no longer names only with prune; other environments are not read or touched', () => {
        const current = appliedState();
        current.environments['dev']!.integrations['old'] = snapshotIntegration({
            unique_key: 'old',
            provider: 'slack',
            display_name: 'Slack',
            credentials: null
        });
        current.environments['prod'] = {
            exists: true,
            integrations: { keep: current.environments['dev']!.integrations['old']! },
            variables: {},
            webhooks: undefined
        };
        const kept = plan(load(file('GH_SECRET')), current);
        assert.deepEqual(kept.actions, []);
        assert.deepEqual(kept.unmanaged, [{ environment: 'dev', key: 'old' }]);
        const pruned = plan(load(file('GH_SECRET')), current, { prune: true });
        assert.deepEqual(pruned.actions, [{ kind: 'delete-integration', environment: 'dev', key: 'old' }]);
    });

    it('a provider change is a replace (destructive), not an update', () => {
        const have = appliedState().environments['dev']!.integrations['github-my-app'];
        const a = planIntegration(
            'dev',
            'github-my-app',
            { provider: 'gitlab', credentials: { type: 'OAUTH2', client_id: 'abc', client_secret: SECRET } },
            have
        );
        assert.equal(a?.kind, 'replace-integration');
    });

    it('a removed variable and a dropped webhook secret field are reported by name only', () => {
        const current = appliedState();
        const desired = load(file('GH_SECRET'));
        desired.environments['dev']!.variables = {};
        const p = plan(desired, current);
        assert.deepEqual(
            p.actions.map((a) => ('changes' in a ? a.changes : [])),
            [[{ field: 'TOKEN', secret: true, change: 'removed' }]]
        );
    });
});
