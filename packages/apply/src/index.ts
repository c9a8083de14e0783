/**
 * Integrations as code (issue #14): the desired-state model, the file loader, a client of the broker's HTTP API,
 * plan() and apply(). Shared by `switchboard plan/apply`, the server's SWITCHBOARD_CONFIG and the Kubernetes operator.
 *
 * A whole file:   const { desired } = loadConfigFile(path, { env: process.env });
 *                 const p = plan(desired, await readCurrent(broker, desired), { prune });  formatPlan(p) → lines
 *                 await apply(broker, p, { allowDestructive: prune });
 * One integration (the operator): const env = new BrokerClient({ baseUrl, auth: { kind: 'secret', key } }).environment('dev');
 *                 await upsertIntegration(env, uniqueKey, integrationSchema.parse(spec));  await deleteIntegration(env, uniqueKey);
 * A refusal is a BrokerError (status, code, issues, and `path` in the desired state); nothing here prints a secret.
 */
export * from './model.ts';
export { BrokerClient, BrokerError, EnvironmentClient, type BrokerAuth, type BrokerClientOptions, type ApiIssue } from './client.ts';
export { readCurrent, readIntegration, WrongEnvironment, type CurrentState, type CurrentEnvironment, type CurrentIntegration } from './current.ts';
export { plan, planIntegration, isEmpty, destructiveActions, type Plan, type Action, type FieldChange } from './plan.ts';
export { apply, upsertIntegration, deleteIntegration, DestructiveChangeRefused, PlanOutdated, type ApplyOptions, type UpsertResult } from './apply.ts';
export { formatPlan } from './format.ts';
export { loadConfigFile, parseConfigText, formatIssue, ConfigFileError, type LoadedConfig, type ConfigIssue } from './file.ts';
