/**
 * Runs the example agent against a Switchboard server: one request per command-line argument, and every
 * confirmation asked on the terminal.
 *
 *   SWITCHBOARD_URL=http://localhost:3003 AGENT_TOKEN=sb_agent_… MAIL_CONNECTION_ID=… CALENDAR_CONNECTION_ID=… \
 *     npm start -w examples/mcp-agent -- "show my emails" "send an email to John about Lunch, saying See you at noon"
 */
import { createInterface } from 'node:readline/promises';
import { Agent } from './agent.ts';

const env = (name: string, fallback?: string): string => {
    const v = process.env[name] ?? fallback;
    if (v === undefined) throw new Error(`set ${name}`);
    return v;
};

const terminal = createInterface({ input: process.stdin, output: process.stdout });
const calendar = process.env['CALENDAR_CONNECTION_ID'];
const mail = process.env['MAIL_CONNECTION_ID'];
const agent = await Agent.start({
    url: env('SWITCHBOARD_URL', 'http://localhost:3003'),
    token: env('AGENT_TOKEN'),
    ...(calendar ? { calendar: { providerConfigKey: env('CALENDAR_INTEGRATION', 'google-calendar'), connectionId: calendar } } : {}),
    ...(mail ? { mail: { providerConfigKey: env('MAIL_INTEGRATION', 'google-mail'), connectionId: mail } } : {}),
    contacts: JSON.parse(process.env['CONTACTS'] ?? '{}') as Record<string, string>,
    confirm: async (question) => /^y/i.test(await terminal.question(`${question}\nProceed? [y/N] `))
});
try {
    for (const request of process.argv.slice(2)) {
        console.log(`> ${request}`);
        console.log((await agent.handle(request)).text);
    }
} finally {
    await agent.close();
    terminal.close();
}
