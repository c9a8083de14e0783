import { z } from 'zod';

export const Ticket = z.object({
    id: z.string(),
    title: z.string(),
    status: z.enum(['open', 'closed']),
    createdAt: z.string()
});
export type Ticket = z.infer<typeof Ticket>;

/** The helpdesk API's ticket, as it answers it. */
export interface ApiTicket {
    id: number;
    title: string;
    status: 'open' | 'closed';
    created_at: string;
}

export const toTicket = (t: ApiTicket): Ticket => ({ id: String(t.id), title: t.title, status: t.status, createdAt: t.created_at });
