import type { Db, Queryable } from '../storage/db.ts';
import type { ToolAnnotationsInput } from './deploy-schema.ts';

export type FunctionType = 'sync' | 'action' | 'on-event';

/** The connection events an on-event script declares (`createOnEvent({ event })`, docs/scripts-compatibility.md, "Entry points"). */
export type OnEventName = 'post-connection-creation' | 'pre-connection-deletion' | 'validate-connection';

/** What a deployed script was declared with (the deploy payload, normalised). */
export interface FunctionConfig {
    runs?: string | null;
    autoStart?: boolean;
    models?: string[];
    input?: string | null;
    endpoints?: unknown[];
    trackDeletes?: boolean;
    syncType?: string | null;
    webhookSubscriptions?: string[];
    jsonSchema?: Record<string, unknown> | null;
    features?: string[];
    description?: string;
    scopes?: string[];
    attributes?: Record<string, unknown>;
    event?: string;
    /** MCP tool hints of an action, as deployed (docs/mcp.md, "Tool annotations"). */
    annotations?: ToolAnnotationsInput;
}

export interface DeployedFunction {
    id: number;
    environmentId: number;
    integrationId: number;
    providerConfigKey: string;
    provider: string;
    type: FunctionType;
    name: string;
    version: string | null;
    config: FunctionConfig;
    sdkVersion: string | null;
    deployedAt: Date;
}

export interface FunctionInput {
    integrationId: number;
    type: FunctionType;
    name: string;
    version: string | null;
    js: string;
    ts: string;
    config: FunctionConfig;
    sdkVersion: string | null;
}

interface Row {
    id: number;
    environment_id: number;
    integration_id: number;
    unique_key: string;
    provider: string;
    type: FunctionType;
    name: string;
    version: string | null;
    config: FunctionConfig;
    sdk_version: string | null;
    deployed_at: Date;
}

const columns = 'f.id, f.environment_id, f.integration_id, i.unique_key, i.provider, f.type, f.name, f.version, f.config, f.sdk_version, f.deployed_at';
const from = 'functions f JOIN integrations i ON i.id = f.integration_id';

const toFunction = (r: Row): DeployedFunction => ({
    id: r.id,
    environmentId: r.environment_id,
    integrationId: r.integration_id,
    providerConfigKey: r.unique_key,
    provider: r.provider,
    type: r.type,
    name: r.name,
    version: r.version,
    config: r.config,
    sdkVersion: r.sdk_version,
    deployedAt: r.deployed_at
});

/** Deployed scripts and their bundles. */
export class FunctionStore {
    private readonly db: Db;
    private readonly codeCache = new Map<number, { deployedAt: number; js: string }>();

    constructor(db: Db) {
        this.db = db;
    }

    async list(environmentId: number, q: Queryable = this.db): Promise<DeployedFunction[]> {
        const rows = await q.query<Row>(`SELECT ${columns} FROM ${from} WHERE f.environment_id = $1 ORDER BY i.unique_key, f.type, f.name`, [environmentId]);
        return rows.map(toFunction);
    }

    async find(
        environmentId: number,
        providerConfigKey: string,
        type: FunctionType,
        name: string,
        q: Queryable = this.db
    ): Promise<DeployedFunction | undefined> {
        const rows = await q.query<Row>(`SELECT ${columns} FROM ${from} WHERE f.environment_id = $1 AND i.unique_key = $2 AND f.type = $3 AND f.name = $4`, [
            environmentId,
            providerConfigKey,
            type,
            name
        ]);
        return rows[0] && toFunction(rows[0]);
    }

    /** The on-event scripts an integration deployed for one event, by name (the order they run in). */
    async onEvent(integrationId: number, event: OnEventName, q: Queryable = this.db): Promise<DeployedFunction[]> {
        const rows = await q.query<Row>(
            `SELECT ${columns} FROM ${from} WHERE f.integration_id = $1 AND f.type = 'on-event' AND f.config->>'event' = $2 ORDER BY f.name`,
            [integrationId, event]
        );
        return rows.map(toFunction);
    }

    async byId(id: number, q: Queryable = this.db): Promise<DeployedFunction | undefined> {
        const rows = await q.query<Row>(`SELECT ${columns} FROM ${from} WHERE f.id = $1`, [id]);
        return rows[0] && toFunction(rows[0]);
    }

    /** byId for many (a sync worker's batch): one round trip; the ones gone are left out. */
    async byIds(ids: number[], q: Queryable = this.db): Promise<DeployedFunction[]> {
        if (ids.length === 0) return [];
        const rows = await q.query<Row>(`SELECT ${columns} FROM ${from} WHERE f.id = ANY($1::int[])`, [ids]);
        return rows.map(toFunction);
    }

    /** The bundle text; cached per deploy so a busy schedule does not re-read the same code every run. */
    async code(fn: DeployedFunction): Promise<string> {
        const hit = this.codeCache.get(fn.id);
        if (hit && hit.deployedAt === fn.deployedAt.getTime()) return hit.js;
        const rows = await this.db.query<{ js: string }>('SELECT js FROM functions WHERE id = $1', [fn.id]);
        const js = rows[0]?.js ?? '';
        this.codeCache.set(fn.id, { deployedAt: fn.deployedAt.getTime(), js });
        return js;
    }

    /** The TypeScript source the deploy carried (empty when the CLI sent none). */
    async source(fn: DeployedFunction): Promise<string> {
        const rows = await this.db.query<{ ts: string | null }>('SELECT ts FROM functions WHERE id = $1', [fn.id]);
        return rows[0]?.ts ?? '';
    }

    async upsert(q: Queryable, f: FunctionInput): Promise<number> {
        const rows = await q.query<{ id: number }>(
            `INSERT INTO functions (environment_id, integration_id, type, name, version, js, ts, config, sdk_version)
             SELECT i.environment_id, i.id, $2, $3, $4, $5, $6, $7, $8 FROM integrations i WHERE i.id = $1
             ON CONFLICT (integration_id, type, name) DO UPDATE SET version = EXCLUDED.version, js = EXCLUDED.js, ts = EXCLUDED.ts,
                 config = EXCLUDED.config, sdk_version = EXCLUDED.sdk_version, deployed_at = now()
             RETURNING id`,
            [f.integrationId, f.type, f.name, f.version, f.js, f.ts, JSON.stringify(f.config), f.sdkVersion]
        );
        return rows[0]!.id;
    }

    async remove(q: Queryable, ids: number[]): Promise<void> {
        if (ids.length) await q.query('DELETE FROM functions WHERE id = ANY($1::int[])', [ids]);
    }
}
