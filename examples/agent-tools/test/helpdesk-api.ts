// A loopback stand-in for a helpdesk's REST API: tickets and the account, behind a bearer API key.
import type { ServerResponse } from 'node:http';
import { json, startUpstream } from '../../../packages/server/test/support/upstream.ts';

export interface HelpdeskTicket {
    id: number;
    title: string;
    status: 'open' | 'closed';
    created_at: string;
}

export async function startHelpdeskApi(apiKey: string) {
    const tickets: HelpdeskTicket[] = [
        { id: 101, title: 'Export to CSV times out', status: 'open', created_at: '2026-11-02T09:00:00Z' },
        { id: 102, title: 'Invoice shows the wrong VAT', status: 'closed', created_at: '2026-10-28T15:30:00Z' },
        { id: 103, title: 'SSO login loops back to the sign-in page', status: 'open', created_at: '2026-10-30T11:15:00Z' }
    ];
    const server = await startUpstream((req, res: ServerResponse) => {
        if (req.headers.authorization !== `Bearer ${apiKey}`) return json(res, 401, { message: 'bad API key' });
        const path = req.url.split('?')[0];
        if (req.method === 'GET' && path === '/tickets') return json(res, 200, { tickets });
        if (req.method === 'POST' && path === '/tickets') {
            const ticket: HelpdeskTicket = {
                id: 100 + tickets.length + 1,
                title: JSON.parse(req.body).title,
                status: 'open',
                created_at: new Date().toISOString()
            };
            tickets.push(ticket);
            return json(res, 201, ticket);
        }
        if (req.method === 'GET' && path === '/account') return json(res, 200, { name: 'Acme Support', plan: 'growth', seats: 12 });
        json(res, 404, { message: 'no such endpoint' });
    });
    return { ...server, tickets };
}
