// Webhook deliveries: status, attempts, the next retry, the last answer and the payload; replay what ended.
import { useState } from 'react';
import type { Delivery, InboundWebhook } from '../api.ts';
import { errorText, useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { Badge, bytes, type Column, CursorPager, Json, ListTable, PageHeader, refilter, SelectFilter, Stacked, useCursorStack } from '../ui.tsx';

/** The payload as sent: the server keeps the exact signed bytes, a JSON text. */
function parseBody(body: unknown): unknown {
    if (typeof body !== 'string') return body;
    try {
        return JSON.parse(body) as unknown;
    } catch {
        return body;
    }
}

/** What the delivery tells the app, from its payload: `auth · creation`, `sync · items`. */
/** What a delivery announces; a provider's event that matched no connection is forwarded as the provider sent it, untyped. */
function eventName(body: unknown): string {
    const parsed = parseBody(body);
    if (typeof parsed !== 'object' || parsed === null || typeof (parsed as Record<string, unknown>)['type'] !== 'string') return 'forward';
    const b = parsed as Record<string, unknown>;
    const detail = b['operation'] ?? b['syncName'] ?? b['from'];
    return [b['type'], detail].filter((x) => typeof x === 'string' && x).join(' · ');
}

export function WebhooksPage() {
    const { api, t, lang, notify } = useDash();
    const [status, setStatus] = useState('');
    const cursors = useCursorStack<string>();
    const list = useLoad(
        () =>
            api.call<{ data: Delivery[]; next_cursor: string | null }>('GET', '/admin/webhooks/deliveries', {
                query: { status, cursor: cursors.cursor, limit: 20 }
            }),
        [status, cursors.cursor]
    );
    const replay = async (d: Delivery) => {
        try {
            await api.call('POST', `/admin/webhooks/deliveries/${d.id}/replay`);
            notify(t('replayed'));
            list.reload();
        } catch (err) {
            notify(errorText(t, err), 'error');
        }
    };
    return (
        <section>
            <PageHeader title={t('deliveries')}>
                <button type="button" className="db-button" onClick={list.reload} data-testid="reload-deliveries">
                    {t('refresh')}
                </button>
            </PageHeader>
            <div className="db-filters">
                <SelectFilter
                    label={t('status')}
                    value={status}
                    onChange={refilter(setStatus, cursors.reset)}
                    options={['pending', 'delivered', 'failed', 'dead']}
                    testId="delivery-status"
                />
            </div>
            <ListTable
                list={list}
                testId="deliveries"
                rowKey={(d) => String(d.id)}
                rowTestId={(d) => `delivery-${d.id}`}
                columns={[
                    {
                        label: t('event'),
                        cell: (d) => (
                            <>
                                <strong>{eventName(d.body)}</strong>
                                <br />
                                <span className="db-small">{formatTime(lang, d.created_at)}</span>
                                <br />
                                <span className="db-muted db-small db-break">{d.url}</span>
                            </>
                        )
                    },
                    { label: t('status'), cell: (d) => <Badge value={d.status} /> },
                    { label: t('attempts'), cell: (d) => d.attempts },
                    { label: t('nextRetry'), cell: (d) => formatTime(lang, d.next_attempt_at) || <span className="db-muted">—</span> },
                    {
                        label: t('lastAnswer'),
                        cell: (d) => (
                            <>
                                {d.last_status ?? ''} {d.last_error ? <span className="db-error-text db-small">{d.last_error}</span> : null}
                            </>
                        )
                    },
                    { label: t('payload'), cell: (d) => <Json value={parseBody(d.body)} summary={t('details')} /> },
                    {
                        actions: (d) => (
                            <button type="button" className="db-button" disabled={d.status === 'pending'} onClick={() => replay(d)} data-testid="replay">
                                {t('replay')}
                            </button>
                        )
                    }
                ]}
            />
            <CursorPager cursors={cursors} next={list.value?.next_cursor} />
            <InboundWebhooks />
        </section>
    );
}

/** Provider webhooks received: who sent which event, and what became of it (never the payload). */
function InboundWebhooks() {
    const { api, t, lang } = useDash();
    const [outcome, setOutcome] = useState('');
    const cursors = useCursorStack<number>();
    const list = useLoad(
        () =>
            api.call<{ data: InboundWebhook[]; next_cursor: number | null }>('GET', '/inbound-webhooks', {
                query: { outcome, cursor: cursors.cursor, limit: 20 }
            }),
        [outcome, cursors.cursor]
    );
    const columns: Array<Column<InboundWebhook>> = [
        { label: t('when'), cell: (w) => formatTime(lang, w.received_at) },
        {
            label: t('integration'),
            cell: (w) => <Stacked main={<code>{w.provider_config_key}</code>} sub={w.provider} />
        },
        { label: t('event'), cell: (w) => w.event ?? <span className="db-muted">—</span> },
        {
            label: t('outcome'),
            cell: (w) => (
                <>
                    <Badge value={w.outcome} />
                    {w.reason ? <span className="db-muted db-small"> {w.reason}</span> : null}
                </>
            )
        },
        {
            label: t('routed'),
            cell: (w) =>
                w.outcome === 'routed' ? t('routedCounts', { connections: String(w.connections), runs: String(w.runs), forwards: String(w.forwards) }) : '—'
        },
        { label: t('size'), cell: (w) => bytes(w.body_bytes) }
    ];
    return (
        <>
            <h2>{t('inbound')}</h2>
            <p className="db-muted">{t('inboundIntro')}</p>
            <div className="db-filters">
                <SelectFilter
                    label={t('outcome')}
                    value={outcome}
                    onChange={refilter(setOutcome, cursors.reset)}
                    options={['routed', 'answered', 'refused']}
                    testId="inbound-outcome"
                />
            </div>
            <ListTable list={list} testId="inbound" rowKey={(w) => w.id} rowTestId={(w) => `inbound-${w.id}`} columns={columns} />
            <CursorPager cursors={cursors} next={list.value?.next_cursor} />
        </>
    );
}
