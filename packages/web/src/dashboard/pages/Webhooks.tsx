// Webhook deliveries: status, attempts, the next retry, the last answer and the payload; replay what ended.
import { useState } from 'react';
import type { Delivery, InboundWebhook } from '../api.ts';
import { errorText, useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { Badge, bytes, Json, PageHeader, Pager, useCursorStack, ListStatus } from '../ui.tsx';

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
                <label className="db-field">
                    <span>{t('status')}</span>
                    <select
                        value={status}
                        onChange={(e) => {
                            setStatus(e.target.value);
                            cursors.reset();
                        }}
                        data-testid="delivery-status"
                    >
                        <option value="">{t('all')}</option>
                        {['pending', 'delivered', 'failed', 'dead'].map((s) => (
                            <option key={s} value={s}>
                                {s}
                            </option>
                        ))}
                    </select>
                </label>
            </div>
            <ListStatus list={list} />
            {list.value && list.value.data.length > 0 ? (
                <table className="db-table" data-testid="deliveries">
                    <thead>
                        <tr>
                            <th>{t('event')}</th>
                            <th>{t('status')}</th>
                            <th>{t('attempts')}</th>
                            <th>{t('nextRetry')}</th>
                            <th>{t('lastAnswer')}</th>
                            <th>{t('payload')}</th>
                            <th />
                        </tr>
                    </thead>
                    <tbody>
                        {list.value.data.map((d) => (
                            <tr key={String(d.id)} data-testid={`delivery-${d.id}`}>
                                <td data-label={t('event')}>
                                    <strong>{eventName(d.body)}</strong>
                                    <br />
                                    <span className="db-small">{formatTime(lang, d.created_at)}</span>
                                    <br />
                                    <span className="db-muted db-small db-break">{d.url}</span>
                                </td>
                                <td data-label={t('status')}>
                                    <Badge value={d.status} />
                                </td>
                                <td data-label={t('attempts')}>{d.attempts}</td>
                                <td data-label={t('nextRetry')}>{formatTime(lang, d.next_attempt_at) || <span className="db-muted">—</span>}</td>
                                <td data-label={t('lastAnswer')}>
                                    {d.last_status ?? ''} {d.last_error ? <span className="db-error-text db-small">{d.last_error}</span> : null}
                                </td>
                                <td data-label={t('payload')}>
                                    <Json value={parseBody(d.body)} summary={t('details')} />
                                </td>
                                <td className="db-actions-cell">
                                    <div className="db-row-actions">
                                        <button
                                            type="button"
                                            className="db-button"
                                            disabled={d.status === 'pending'}
                                            onClick={() => replay(d)}
                                            data-testid="replay"
                                        >
                                            {t('replay')}
                                        </button>
                                    </div>
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
    return (
        <>
            <h2>{t('inbound')}</h2>
            <p className="db-muted">{t('inboundIntro')}</p>
            <div className="db-filters">
                <label className="db-field">
                    <span>{t('outcome')}</span>
                    <select
                        value={outcome}
                        onChange={(e) => {
                            setOutcome(e.target.value);
                            cursors.reset();
                        }}
                        data-testid="inbound-outcome"
                    >
                        <option value="">{t('all')}</option>
                        {['routed', 'answered', 'refused'].map((o) => (
                            <option key={o} value={o}>
                                {o}
                            </option>
                        ))}
                    </select>
                </label>
            </div>
            <ListStatus list={list} />
            {list.value && list.value.data.length > 0 ? (
                <table className="db-table" data-testid="inbound">
                    <thead>
                        <tr>
                            <th>{t('when')}</th>
                            <th>{t('integration')}</th>
                            <th>{t('event')}</th>
                            <th>{t('outcome')}</th>
                            <th>{t('routed')}</th>
                            <th>{t('size')}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.value.data.map((w) => (
                            <tr key={w.id} data-testid={`inbound-${w.id}`}>
                                <td data-label={t('when')}>{formatTime(lang, w.received_at)}</td>
                                <td data-label={t('integration')}>
                                    <code>{w.provider_config_key}</code>
                                    <br />
                                    <span className="db-muted db-small">{w.provider}</span>
                                </td>
                                <td data-label={t('event')}>{w.event ?? <span className="db-muted">—</span>}</td>
                                <td data-label={t('outcome')}>
                                    <Badge value={w.outcome} />
                                    {w.reason ? <span className="db-muted db-small"> {w.reason}</span> : null}
                                </td>
                                <td data-label={t('routed')}>
                                    {w.outcome === 'routed'
                                        ? t('routedCounts', { connections: String(w.connections), runs: String(w.runs), forwards: String(w.forwards) })
                                        : '—'}
                                </td>
                                <td data-label={t('size')}>{bytes(w.body_bytes)}</td>
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
        </>
    );
}
