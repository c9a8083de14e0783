// A scripted planner standing in for a model, for one goal: "follow up on our oldest open ticket, and tell me which
// plan the helpdesk account is on". It reads each tool's output as a model would, and stops at the first failure.
import { z } from 'zod';
import type { Planner } from './agent.ts';

const Ticket = z.object({ id: z.string(), title: z.string(), status: z.string(), createdAt: z.string() });
const Records = z.object({ records: z.array(Ticket) });
const Account = z.object({ data: z.object({ plan: z.string() }) });

export const triagePlanner: Planner = (turns) => {
    const last = turns.at(-1);
    if (last && !last.result.ok) return { answer: `I could not finish: ${last.result.error}` };
    const output = (i: number) => (turns[i]?.result.ok ? turns[i].result.output : undefined);

    if (turns.length === 0) return { tool: 'list_records', args: { model: 'Ticket', limit: 100 } };
    const open = Records.parse(output(0))
        .records.filter((t) => t.status === 'open')
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const oldest = open[0];
    if (!oldest) return { answer: 'There are no open tickets: nothing to follow up.' };
    if (turns.length === 1) return { tool: 'trigger_action', args: { action: 'create-ticket', input: { title: `Follow up: ${oldest.title}` } } };
    if (turns.length === 2) return { tool: 'proxy_get', args: { endpoint: '/account' } };

    const filed = Ticket.parse(output(1));
    const { plan } = Account.parse(output(2)).data;
    return { answer: `${open.length} open tickets; filed #${filed.id} "${filed.title}" for the oldest. The account is on the ${plan} plan.` };
};
