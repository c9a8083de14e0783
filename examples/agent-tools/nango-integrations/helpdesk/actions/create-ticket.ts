import { createAction } from 'nango';
import { z } from 'zod';
import { Ticket, toTicket, type ApiTicket } from '../models.js';

const CreateTicketInput = z.object({ title: z.string().trim().min(1).max(200) });

export default createAction({
    description: 'Opens a helpdesk ticket',
    version: '1.0.0',
    input: CreateTicketInput,
    output: Ticket,

    exec: async (nango, rawInput) => {
        // The runner hands the input over as the caller sent it: check it before anything reaches the API.
        const input = CreateTicketInput.safeParse(rawInput);
        if (!input.success) throw new nango.ActionError({ message: `invalid input: ${z.prettifyError(input.error)}` });
        // No retries: creating twice is worse than failing once.
        const res = await nango.post<ApiTicket>({ endpoint: '/tickets', data: { title: input.data.title } });
        return toTicket(res.data);
    }
});
