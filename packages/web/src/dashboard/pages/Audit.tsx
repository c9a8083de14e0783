// The audit trail: what happened to connections (created, refreshed, refused, deleted), newest first, by cursor.
import { useState } from 'react';
import type { AuditEvent } from '../api.ts';
import { useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { Badge, Json, PageHeader, Pager, useCursorStack, ListStatus } from '../ui.tsx';

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
            <ListStatus list={list} />
            {list.value && list.value.data.length > 0 ? (
                <table className="db-table" data-testid="audit">
                    <thead>
                        <tr>
                            <th>{t('when')}</th>
                            <th>{t('kind')}</th>
                            <th>{t('outcome')}</th>
                            <th>{t('connection')}</th>
                            <th>{t('detail')}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.value.data.map((e) => (
                            <tr key={String(e.id)}>
                                <td data-label={t('when')}>{formatTime(lang, e.created_at)}</td>
                                <td data-label={t('kind')}>{e.kind}</td>
                                <td data-label={t('outcome')}>
                                    <Badge value={e.outcome} />
                                </td>
                                <td data-label={t('connection')}>
                                    <code>{e.connection_id ?? ''}</code>
                                    <br />
                                    <span className="db-muted db-small">{e.provider_config_key ?? ''}</span>
                                </td>
                                <td data-label={t('detail')}>
                                    <Json value={e.detail} summary={t('details')} />
                                </td>
                            </tr>
                        ))}
                    </tbody>
                </table>
            ) : null}
            <Pager
                hasPrevious={cursors.depth > 1}
                onPrevious={cursors.pop}
                hasNext={list.value?.next_cursor != null}
                onNext={() => list.value?.next_cursor && cursors.push(list.value.next_cursor)}
            />
        </section>
    );
}
