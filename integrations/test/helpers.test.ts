// Pure helpers of the Calendar and Gmail scripts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listParams, readSyncTokens, splitPage, toCalendarEvent, writeSyncTokens } from '../google-calendar/helpers/events-api.ts';
import { eventBody } from '../google-calendar/helpers/event-input.ts';
import { changedThreadIds } from '../google-mail/helpers/history.ts';
import { isHidden, toGmailThread } from '../google-mail/helpers/map-thread.ts';

describe('calendar helpers', () => {
    it('a full pass sends the window, singleEvents and orderBy; an incremental one only the sync token', () => {
        const meta = { timeMin: '2026-01-01T00:00:00Z', timeMax: '2026-02-01T00:00:00Z', singleEvents: true };
        assert.deepEqual(listParams(meta, '', ''), {
            maxResults: 1000,
            showDeleted: 'true',
            singleEvents: 'true',
            timeMin: meta.timeMin,
            timeMax: meta.timeMax,
            orderBy: 'startTime'
        });
        assert.deepEqual(listParams(meta, 'tok', 'page'), { maxResults: 1000, showDeleted: 'true', singleEvents: 'true', syncToken: 'tok', pageToken: 'page' });
        assert.equal(listParams({}, '', '')['orderBy'], undefined, 'orderBy=startTime needs singleEvents=true');
    });

    it('cancelled events become deletes, others records with calendarId and without kind', () => {
        const { save, remove } = splitPage(
            [
                { id: 'a', kind: 'calendar#event', status: 'confirmed', summary: 'A' },
                { id: 'b', status: 'cancelled' }
            ],
            'team'
        );
        assert.deepEqual(save, [{ id: 'a', status: 'confirmed', summary: 'A', calendarId: 'team' }]);
        assert.deepEqual(remove, [{ id: 'b' }]);
        assert.equal(toCalendarEvent({ id: 'x' }, 'primary').status, 'confirmed');
    });

    it('sync tokens round-trip through the checkpoint string and refuse to outgrow it', () => {
        const tokens = new Map([
            ['primary', 't1'],
            ['team', 't2']
        ]);
        assert.deepEqual(readSyncTokens(writeSyncTokens(tokens)), tokens);
        assert.equal(readSyncTokens('not json').size, 0);
        const many = new Map(Array.from({ length: 200 }, (_, i) => [`calendar-${i}@group.calendar.google.com`, 'CPDAlvWDx70CEPDAlvWDx70CGAU=']));
        assert.throws(() => writeSyncTokens(many), /Too many calendars/);
    });

    it('eventBody keeps only given fields', () => {
        assert.deepEqual(eventBody({ summary: 'x', location: undefined }), { summary: 'x' });
    });
});

describe('gmail helpers', () => {
    it('collects every thread a history record touches, once', () => {
        const ids = changedThreadIds([
            { id: '1', messages: [{ id: 'm1', threadId: 't1' }], messagesAdded: [{ message: { id: 'm1', threadId: 't1' } }] },
            { id: '2', labelsAdded: [{ message: { id: 'm2', threadId: 't2' }, labelIds: ['STARRED'] }] },
            { id: '3', messagesDeleted: [{ message: { id: 'm3', threadId: 't3' } }] }
        ]);
        assert.deepEqual(ids, ['t1', 't2', 't3']);
    });

    it('maps a metadata thread to GmailThread', () => {
        const hdr = (subject: string, from: string) => [
            { name: 'Subject', value: subject },
            { name: 'From', value: from },
            { name: 'To', value: 'me@x' },
            { name: 'Date', value: 'Thu, 1 Jan 2026 00:00:00 +0000' },
            { name: 'Message-ID', value: `<${from}@x>` }
        ];
        const t = toGmailThread({
            id: 't1',
            historyId: '42',
            messages: [
                {
                    id: 'm1',
                    threadId: 't1',
                    labelIds: ['INBOX'],
                    snippet: 'first',
                    internalDate: '1767225600000',
                    payload: { headers: hdr('Plans', 'alice@x') }
                },
                {
                    id: 'm2',
                    threadId: 't1',
                    labelIds: ['INBOX', 'UNREAD'],
                    snippet: 'second',
                    internalDate: '1767229200000',
                    payload: { headers: hdr('Re: Plans', 'bob@x') }
                }
            ]
        });
        assert.equal(t.subject, 'Plans');
        assert.equal(t.from, 'alice@x');
        assert.equal(t.snippet, 'second');
        assert.equal(t.messageCount, 2);
        assert.equal(t.lastMessageAt, '2026-01-01T01:00:00.000Z');
        assert.deepEqual(t.labelIds, ['INBOX', 'UNREAD']);
        assert.equal(t.messages[1]!.messageId, '<bob@x@x>');
        assert.equal(isHidden({ id: 't', historyId: '1', messages: [{ id: 'm', threadId: 't', labelIds: ['TRASH'] }] }), true);
        assert.equal(isHidden({ id: 't', historyId: '1', messages: [{ id: 'm', threadId: 't', labelIds: ['INBOX'] }] }), false);
    });
});
