import { createSync } from 'nango';
import { Ticket, toTicket, type ApiTicket } from '../models.js';

export default createSync({
    description: 'Caches the helpdesk tickets',
    version: '1.0.0',
    frequency: 'every hour',
    autoStart: true,
    models: { Ticket },

    exec: async (nango) => {
        const res = await nango.get<{ tickets: ApiTicket[] }>({ endpoint: '/tickets', retries: 3 });
        await nango.batchSave(res.data.tickets.map(toTicket), 'Ticket');
    }
});
