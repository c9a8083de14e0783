// The server's own recent errors: this instance's last error-level log lines (message, error type and code,
// route), newest first, paged by cursor. Per instance and in memory: another instance keeps its own.
import type { RecentError } from '../api.ts';
import { useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { CursorPager, ListTable, PageHeader, useCursorStack } from '../ui.tsx';

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
            <ListTable
                list={list}
                testId="errors"
                rowKey={(e) => e.id}
                columns={[
                    { label: t('when'), cell: (e) => formatTime(lang, e.time) },
                    { label: t('message'), cell: (e) => e.message },
                    {
                        label: t('error'),
                        cell: (e) => (
                            <>
                                {e.error_type ?? <span className="db-muted">—</span>}
                                {e.error_code ? <span className="db-muted db-small"> · {e.error_code}</span> : null}
                            </>
                        )
                    },
                    {
                        label: t('route'),
                        cell: (e) =>
                            e.route ? (
                                <code>
                                    {e.method ? `${e.method} ` : ''}
                                    {e.route}
                                </code>
                            ) : (
                                <span className="db-muted">—</span>
                            )
                    }
                ]}
            />
            <CursorPager cursors={cursors} next={list.value?.next_cursor} />
        </section>
    );
}
