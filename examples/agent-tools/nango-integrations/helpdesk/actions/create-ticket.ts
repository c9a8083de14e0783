import { createAction } from 'nango';
import { z } from 'zod';
import { Ticket, toTicket, type ApiTicket } from '../models.js';

export default createAction({
    description: 'Opens a helpdesk ticket',
    version: '1.0.0',
    input: z.object({ title: z.string().min(1).max(200) }),
    output: Ticket,

    exec: async (nango, input) => {
        // No retries: creating twice is worse than failing once.
        const res = await nango.post<ApiTicket>({ endpoint: '/tickets', data: { title: input.title } });
        return toTicket(res.data);
    }
});
