/** A typical synced object (about 300 bytes of JSON), the same shape bench/records writes. */
export function benchRecord(i: number, version: number): Record<string, unknown> {
    return {
        id: `ticket-${i}`,
        title: `Ticket number ${i}`,
        status: version === 0 ? 'open' : 'closed',
        priority: i % 5,
        assignee: { id: `user-${i % 97}`, name: `User ${i % 97}`, email: `user${i % 97}@example.com` },
        tags: ['support', i % 2 ? 'billing' : 'bug'],
        created: '2024-05-01T10:00:00.000Z',
        version
    };
}
