// The audit trail: what happened to connections (created, refreshed, refused, deleted), newest first, by cursor.
import { useState } from 'react';
import type { AuditEvent } from '../api.ts';
import { useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { Badge, CursorPager, Json, ListTable, PageHeader, Stacked, useCursorStack } from '../ui.tsx';

export function AuditPage() {
    const { api, t, lang } = useDash();
    const [connection, setConnection] = useState('');
    const cursors = useCursorStack<string>();
    const list = useLoad(
        () =>
            api.call<{ data: AuditEvent[]; next_cursor: string | null }>('GET', '/admin/audit', {
                query: { connection_id: connection, cursor: cursors.cursor, limit: 25 }
            }),
        [connection, cursors.cursor]
    );
    return (
        <section>
            <PageHeader title={t('navAudit')}>
                <button type="button" className="db-button" onClick={list.reload}>
                    {t('refresh')}
                </button>
            </PageHeader>
            <div className="db-filters">
                <label className="db-field">
                    <span>{t('connectionId')}</span>
                    <input
                        value={connection}
                        onChange={(e) => {
                            setConnection(e.target.value);
                            cursors.reset();
                        }}
                    />
                </label>
            </div>
            <ListTable
                list={list}
                testId="audit"
                rowKey={(e) => String(e.id)}
                columns={[
                    { label: t('when'), cell: (e) => formatTime(lang, e.created_at) },
                    { label: t('kind'), cell: (e) => e.kind },
                    { label: t('outcome'), cell: (e) => <Badge value={e.outcome} /> },
                    {
                        label: t('connection'),
                        cell: (e) => <Stacked main={<code>{e.connection_id ?? ''}</code>} sub={e.provider_config_key ?? ''} />
                    },
                    { label: t('detail'), cell: (e) => <Json value={e.detail} summary={t('details')} /> }
                ]}
            />
            <CursorPager cursors={cursors} next={list.value?.next_cursor} />
        </section>
    );
}
