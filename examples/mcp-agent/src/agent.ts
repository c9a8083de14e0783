/**
 * An agent on Switchboard's MCP server, with the model replaced by a scripted planner: each request is matched
 * against a few phrasings and turned into tool calls. Everything else is what a model-driven agent does: it holds an
 * agent token (never the secret key), opens one MCP session per connection, discovers the tools and their hints,
 * reads tool errors as results, and gets the user's confirmation before a destructive tool runs, through MCP
 * elicitation or, for a client without it, the two-call confirmation token (docs/mcp.md, "Confirmation").
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';

export interface ConnectionRef {
    providerConfigKey: string;
    connectionId: string;
}

export interface AgentOptions {
    /** Switchboard's URL, e.g. http://localhost:3003 */
    url: string;
    /** An agent token (POST /mcp/tokens) for the end user this agent acts for. */
    token: string;
    calendar?: ConnectionRef;
    mail?: ConnectionRef;
    /** Asks the human; true when they agree. Called before every destructive tool call. */
    confirm: (question: string) => Promise<boolean>;
    /** Declare MCP elicitation (default true); without it, confirmation uses the token the first call returns. */
    elicitation?: boolean;
    /** Names the planner resolves in "send an email to John". */
    contacts?: Record<string, string>;
}

/** What the agent answers, and the tool calls it made to get there (for the transcript and the tests). */
export interface Reply {
    text: string;
    calls: Array<{ tool: string; arguments: Record<string, unknown>; error?: string }>;
}

type Json = Record<string, unknown>;

/** One MCP session on one connection, with its tools by name. */
class Session {
    readonly tools = new Map<string, Tool>();
    private readonly client: Client;

    private constructor(client: Client) {
        this.client = client;
    }

    static async open(o: AgentOptions, ref: ConnectionRef): Promise<Session> {
        const elicitation = o.elicitation ?? true;
        const client = new Client({ name: 'mcp-agent-example', version: '1.0.0' }, { capabilities: elicitation ? { elicitation: {} } : {} });
        // The server asks on the stream of the call it belongs to; the agent passes the question to the human.
        if (elicitation)
            client.setRequestHandler(ElicitRequestSchema, async (req) =>
                (await o.confirm(req.params.message)) ? { action: 'accept', content: { confirm: true } } : { action: 'decline' }
            );
        const transport = new StreamableHTTPClientTransport(new URL('/mcp', o.url), {
            requestInit: { headers: { authorization: `Bearer ${o.token}`, 'connection-id': ref.connectionId, 'provider-config-key': ref.providerConfigKey } }
        });
        await client.connect(transport);
        const session = new Session(client);
        for (const tool of (await client.listTools()).tools) session.tools.set(tool.name, tool);
        return session;
    }

    /** Calls a tool; a `confirmation_required` answer is confirmed with the human and the call repeated with its token. */
    async call(name: string, args: Json, reply: Reply, confirm: AgentOptions['confirm']): Promise<Json | undefined> {
        if (!this.tools.has(name)) throw new Error(`the connection offers no tool "${name}"`);
        let result = (await this.client.callTool({ name, arguments: args })) as CallToolResult;
        let error = errorOf(result);
        if (error?.['type'] === 'confirmation_required') {
            if (!(await confirm(String(error['message'])))) {
                reply.calls.push({ tool: name, arguments: args, error: 'declined' });
                return undefined;
            }
            result = (await this.client.callTool({ name, arguments: { ...args, confirmationToken: error['confirmationToken'] } })) as CallToolResult;
            error = errorOf(result);
        }
        reply.calls.push({ tool: name, arguments: args, ...(error ? { error: String(error['type']) } : {}) });
        if (error) return { error };
        return (result.structuredContent as Json | undefined) ?? JSON.parse(textOf(result));
    }

    close(): Promise<void> {
        return this.client.close();
    }
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
const errorOf = (r: CallToolResult): Json | undefined =>
    r.isError ? ((r.structuredContent as { error?: Json } | undefined)?.error ?? { type: 'error', message: textOf(r) }) : undefined;

/** A day as [start, end) in UTC, from "2026-05-04". */
const day = (date: string) => ({
    timeMin: `${date}T00:00:00Z`,
    timeMax: `${new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 19)}Z`
});

/** What went wrong, in words for the user; the reconnect hint is the one that needs them to act. */
function explain(error: Json): string {
    if (error['type'] === 'connection_expired' || error['type'] === 'connection_revoked')
        return `I can't reach that account any more: please reconnect it. (${String(error['message'])})`;
    if (error['type'] === 'declined') return 'OK, I did not do it.';
    return `That did not work: ${String(error['message'])}`;
}

export class Agent {
    private readonly o: AgentOptions;
    private readonly calendar: Session | undefined;
    private readonly mail: Session | undefined;

    private constructor(o: AgentOptions, calendar: Session | undefined, mail: Session | undefined) {
        this.o = o;
        this.calendar = calendar;
        this.mail = mail;
    }

    static async start(o: AgentOptions): Promise<Agent> {
        return new Agent(o, o.calendar && (await Session.open(o, o.calendar)), o.mail && (await Session.open(o, o.mail)));
    }

    /** The tools the agent can use, with whether each one asks first (what a model would be shown). */
    toolList(): Array<{ name: string; readOnly: boolean; destructive: boolean }> {
        return [...(this.calendar?.tools.values() ?? []), ...(this.mail?.tools.values() ?? [])].map((t) => ({
            name: t.name,
            readOnly: t.annotations?.readOnlyHint === true,
            destructive: t.annotations?.readOnlyHint !== true && t.annotations?.destructiveHint !== false
        }));
    }

    /** The scripted planner: one request in, tool calls out, one answer back. */
    async handle(request: string): Promise<Reply> {
        const reply: Reply = { text: '', calls: [] };
        const confirm = this.o.confirm;
        let m: RegExpExecArray | null;
        if (/\b(show|list|read)\b.*\b(e-?mails?|inbox)\b/i.test(request) && this.mail) {
            const page = await this.mail.call('list_records_GmailThread', { limit: 5 }, reply, confirm);
            if (page?.['error']) return { ...reply, text: explain(page['error'] as Json) };
            const threads = ((page?.['records'] ?? []) as Json[]).filter((t) => !(t['_nango_metadata'] as Json | undefined)?.['deleted_at']);
            reply.text = threads.length ? threads.map((t) => `- ${String(t['subject'])} (from ${String(t['from'])})`).join('\n') : 'Your inbox is empty.';
        } else if ((m = /\bsend (?:an )?e-?mail to (\w+)(?: about ([^,]+))?(?:,? saying (.+))?/i.exec(request)) && this.mail) {
            const to = this.o.contacts?.[m[1]!.toLowerCase()];
            if (!to) return { ...reply, text: `I don't know ${m[1]}'s address.` };
            const sent = await this.mail.call('send-email', { to, subject: m[2]?.trim() ?? 'Hello', body: m[3]?.trim() ?? '' }, reply, confirm);
            reply.text = !sent ? 'OK, I did not send it.' : sent['error'] ? explain(sent['error'] as Json) : `Sent to ${to}.`;
        } else if ((m = /\bwhat(?:'s| is) on my calendar on (\d{4}-\d{2}-\d{2})(?: about (.+))?/i.exec(request)) && this.calendar) {
            const listed = await this.calendar.call('list-events', { ...day(m[1]!), ...(m[2] ? { query: m[2].trim() } : {}) }, reply, confirm);
            if (listed?.['error']) return { ...reply, text: explain(listed['error'] as Json) };
            const events = (listed?.['events'] ?? []) as Json[];
            reply.text = events.length
                ? events.map((e) => `- ${String(e['summary'])} at ${String((e['start'] as Json | undefined)?.['dateTime'])}`).join('\n')
                : 'Nothing.';
        } else if ((m = /\bcancel (?:my )?(.+?) on (\d{4}-\d{2}-\d{2})/i.exec(request)) && this.calendar) {
            // Two steps, as a model would plan them: find the event (read-only), then delete it (destructive: confirmed).
            const listed = await this.calendar.call('list-events', { ...day(m[2]!), query: m[1]! }, reply, confirm);
            if (listed?.['error']) return { ...reply, text: explain(listed['error'] as Json) };
            const event = ((listed?.['events'] ?? []) as Json[])[0];
            if (!event) return { ...reply, text: `I found no "${m[1]}" on ${m[2]}.` };
            const deleted = await this.calendar.call('delete-event', { eventId: event['id'] }, reply, confirm);
            reply.text = !deleted ? 'OK, I left it.' : deleted['error'] ? explain(deleted['error'] as Json) : `Cancelled "${String(event['summary'])}".`;
        } else {
            reply.text = "Sorry, I can't do that.";
        }
        return reply;
    }

    async close(): Promise<void> {
        await this.calendar?.close();
        await this.mail?.close();
    }
}
