// How fast this shared machine is right now, for reading CPU-time figures measured beside it: the CPU time of a
// fixed piece of work (JSON and hashing, the kind of work a server does), in ms. Under contention the same work
// takes more CPU time (caches and cores are shared), and every CPU-time figure taken at that moment grows with
// it: compare CPU figures of two runs only together with their calibration.
import { createHash } from 'node:crypto';

export function calibrationCpuMs(): number {
    const start = process.cpuUsage();
    const record = {
        id: 'ticket-1',
        title: 'Ticket number 1',
        status: 'open',
        priority: 3,
        assignee: { id: 'u', name: 'User', email: 'u@example.com' },
        tags: ['a', 'b']
    };
    let sink = 0;
    for (let i = 0; i < 60_000; i++) {
        record.priority = i;
        const json = JSON.stringify(record);
        sink += (JSON.parse(json) as { priority: number }).priority + createHash('md5').update(json).digest()[0]!;
    }
    const used = process.cpuUsage(start);
    if (sink < 0) throw new Error('unreachable');
    return Math.round((used.user + used.system) / 100) / 10;
}
