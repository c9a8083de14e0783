// An agent's tool layer on Switchboard through the official @nangohq/node SDK: read the records a sync cached, run an
// action, make a proxied call. The app binds the tools to one connection (the user the agent works for); the model
// only picks tools and arguments, never whose credentials are used.
import type { Nango } from '@nangohq/node';
import { z } from 'zod';

export interface Connection {
    providerConfigKey: string;
    connectionId: string;
}

export interface Tool<Input extends z.ZodType = z.ZodType> {
    name: string;
    description: string;
    input: Input;
    run(nango: Nango, connection: Connection, input: z.infer<Input>): Promise<unknown>;
}

export type ToolCall = { tool: string; args: unknown };
export type ToolResult = { ok: true; output: unknown } | { ok: false; error: string };

const tool = <Input extends z.ZodType>(t: Tool<Input>) => t;

export const tools = [
    tool({
        name: 'list_records',
        description: 'Lists records the integration has synced, newest changes last. Answers from the cache: no call to the provider.',
        input: z.object({ model: z.string().min(1), limit: z.number().int().min(1).max(100).default(20), cursor: z.string().optional() }),
        async run(nango, connection, { model, limit, cursor }) {
            const page = await nango.listRecords({ ...connection, model, limit, ...(cursor ? { cursor } : {}) });
            // The model needs the data, not the cache's bookkeeping.
            return { records: page.records.map(({ _nango_metadata, ...record }) => record), next_cursor: page.next_cursor };
        }
    }),
    tool({
        name: 'trigger_action',
        description: 'Runs one of the integration’s actions (e.g. create-ticket) with its input and returns its output.',
        input: z.object({ action: z.string().min(1), input: z.record(z.string(), z.unknown()).default({}) }),
        run: (nango, connection, { action, input }) => nango.triggerAction(connection.providerConfigKey, connection.connectionId, action, input)
    }),
    tool({
        name: 'proxy_get',
        description: 'GETs a path of the provider’s API with the user’s credentials, for what no sync or action covers.',
        input: z.object({
            endpoint: z.string().regex(/^\/[^/]/, 'a path on the provider’s API, such as /account'),
            params: z.record(z.string(), z.string()).optional()
        }),
        async run(nango, connection, { endpoint, params }) {
            const res = await nango.get({ ...connection, endpoint, ...(params ? { params } : {}) });
            return { status: res.status, data: res.data };
        }
    })
];

/** The tools as function definitions for a model's tool-calling API (name, description, JSON Schema of the input). */
export const toolDefinitions = () => tools.map((t) => ({ name: t.name, description: t.description, parameters: z.toJSONSchema(t.input, { io: 'input' }) }));

/** Runs one call. Never throws: a failure comes back as a sentence the model (and a person reading the log) can act on. */
export async function runTool(nango: Nango, connection: Connection, call: ToolCall): Promise<ToolResult> {
    const t = tools.find((candidate) => candidate.name === call.tool);
    if (!t) return { ok: false, error: `unknown tool "${call.tool}"; the tools are ${tools.map((c) => c.name).join(', ')}` };
    const input = t.input.safeParse(call.args);
    if (!input.success) return { ok: false, error: `invalid arguments for ${t.name}: ${z.prettifyError(input.error)}` };
    try {
        return { ok: true, output: await (t as Tool).run(nango, connection, input.data) };
    } catch (err) {
        return { ok: false, error: `${t.name} failed: ${describeError(err)}` };
    }
}

const HttpError = z.object({ response: z.object({ status: z.number(), data: z.unknown() }) });
const Envelope = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

/** Switchboard answers `{ error: { code, message } }` (Nango's shape); the SDK throws axios errors carrying it. */
function describeError(err: unknown): string {
    const http = HttpError.safeParse(err);
    if (!http.success) return err instanceof Error ? err.message : String(err);
    const { status, data } = http.data.response;
    const envelope = Envelope.safeParse(data);
    if (!envelope.success) return `HTTP ${status} ${JSON.stringify(data).slice(0, 200)}`;
    return `HTTP ${status} ${envelope.data.error.code}${envelope.data.error.message ? `: ${envelope.data.error.message}` : ''}`;
}
