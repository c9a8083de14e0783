// The server's own recent errors: this instance's last error-level log lines (message, error type and code,
// route), newest first, paged by cursor. Per instance and in memory: another instance keeps its own.
import type { RecentError } from '../api.ts';
import { useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { PageHeader, Pager, useCursorStack, ListStatus } from '../ui.tsx';

export function ErrorsPage() {
    const { api, t, lang } = useDash();
    const cursors = useCursorStack<number>();
    const list = useLoad(
        () =>
            api.call<{ data: RecentError[]; next_cursor: number | null; capacity: number }>('GET', '/errors', {
                query: { cursor: cursors.cursor, limit: 25 }
            }),
        [cursors.cursor]
    );
    return (
        <section>
            <PageHeader title={t('navErrors')}>
                <button type="button" className="db-button" onClick={list.reload}>
                    {t('refresh')}
                </button>
            </PageHeader>
            <p className="db-muted">{t('errorsIntro', { n: String(list.value?.capacity ?? 200) })}</p>
            <ListStatus list={list} />
            {list.value && list.value.data.length > 0 ? (
                <table className="db-table" data-testid="errors">
                    <thead>
                        <tr>
                            <th>{t('when')}</th>
                            <th>{t('message')}</th>
                            <th>{t('error')}</th>
                            <th>{t('route')}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.value.data.map((e) => (
                            <tr key={e.id}>
                                <td data-label={t('when')}>{formatTime(lang, e.time)}</td>
                                <td data-label={t('message')}>{e.message}</td>
                                <td data-label={t('error')}>
                                    {e.error_type ?? <span className="db-muted">—</span>}
                                    {e.error_code ? <span className="db-muted db-small"> · {e.error_code}</span> : null}
                                </td>
                                <td data-label={t('route')}>
                                    {e.route ? (
                                        <code>
                                            {e.method ? `${e.method} ` : ''}
                                            {e.route}
                                        </code>
                                    ) : (
                                        <span className="db-muted">—</span>
                                    )}
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
