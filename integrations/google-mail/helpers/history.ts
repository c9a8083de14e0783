/** users.history.list records → ids of the threads that changed. Pure. */
import type { HistoryRecord } from './gmail-api.js';

/** Every thread touched by a record (added/deleted messages, label changes), once, in first-seen order. */
export function changedThreadIds(records: HistoryRecord[]): string[] {
    const ids = new Set<string>();
    for (const r of records) {
        for (const m of r.messages ?? []) ids.add(m.threadId);
        for (const list of [r.messagesAdded, r.messagesDeleted, r.labelsAdded, r.labelsRemoved]) {
            for (const entry of list ?? []) ids.add(entry.message.threadId);
        }
    }
    return [...ids];
}
