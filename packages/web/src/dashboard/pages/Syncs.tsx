// Syncs: each sync of an integration (or one connection) with its state and actions (run now, pause, resume), and
// the environment's sync runs, newest first, paged by cursor on the server, with counts and errors.
import { useState } from 'react';
import type { ActionRunRow, Integration, RunRow, SyncStatusRow } from '../api.ts';
import { errorText, useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { Badge, bytes, ErrorLine, Json, PageHeader, Pager, useCursorStack, ListStatus } from '../ui.tsx';

function totals(result: RunRow['result']): { added: number; updated: number; deleted: number } {
    const out = { added: 0, updated: 0, deleted: 0 };
    for (const m of Object.values(result ?? {})) {
        out.added += m.added ?? 0;
        out.updated += m.updated ?? 0;
        out.deleted += m.deleted ?? 0;
    }
    return out;
}

function duration(run: { started_at: string | null; finished_at: string | null }): string {
    if (!run.started_at || !run.finished_at) return '';
    const ms = new Date(run.finished_at).getTime() - new Date(run.started_at).getTime();
    return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function SyncsPage() {
    const { api, t, lang, notify } = useDash();
    const integrations = useLoad(() => api.call<{ data: Integration[] }>('GET', '/integrations'), []);
    // A link from a connection (#/syncs?integration=…&connection=…) opens its syncs.
    const linked = new URLSearchParams(location.hash.split('?')[1] ?? '');
    const [integration, setIntegration] = useState(linked.get('integration') ?? '');
    const [connection, setConnection] = useState(linked.get('connection') ?? '');
    const deployed = useLoad(() => api.call<DeployedGroup[]>('GET', '/scripts/config'), []);
    const [status, setStatus] = useState('');
    const cursors = useCursorStack<number>();
    const actionCursors = useCursorStack<number>();
    const syncs = useLoad(
        () =>
            integration
                ? api.call<{ syncs: SyncStatusRow[] }>('GET', '/sync/status', {
                      query: { provider_config_key: integration, syncs: '*', connection_id: connection || undefined }
                  })
                : Promise.resolve({ syncs: [] }),
        [integration, connection]
    );
    const runs = useLoad(
        () =>
            api.call<{ data: RunRow[]; next_cursor: number | null }>('GET', '/runs', {
                query: { integration, connection_id: connection, status, cursor: cursors.cursor, limit: 20 }
            }),
        [integration, connection, status, cursors.cursor]
    );
    const actions = useLoad(
        () =>
            api.call<{ data: ActionRunRow[]; next_cursor: number | null }>('GET', '/runs', {
                query: { kind: 'action', integration, connection_id: connection, status, cursor: actionCursors.cursor, limit: 20 }
            }),
        [integration, connection, status, actionCursors.cursor]
    );

    const command = async (path: string, s: SyncStatusRow, done: string, extra: Record<string, unknown> = {}) => {
        try {
            await api.call('POST', path, { body: { provider_config_key: integration, syncs: [s.name], connection_id: s.connection_id, ...extra } });
            notify(done);
            syncs.reload();
            runs.reload();
        } catch (err) {
            notify(errorText(t, err), 'error');
        }
    };

    return (
        <section>
            <PageHeader title={t('navSyncs')}>
                <button
                    type="button"
                    className="db-button"
                    onClick={() => {
                        syncs.reload();
                        runs.reload();
                        actions.reload();
                    }}
                    data-testid="reload-syncs"
                >
                    {t('refresh')}
                </button>
            </PageHeader>
            <div className="db-filters">
                <label className="db-field">
                    <span>{t('integration')}</span>
                    <select
                        value={integration}
                        onChange={(e) => {
                            setIntegration(e.target.value);
                            cursors.reset();
                            actionCursors.reset();
                        }}
                        data-testid="sync-integration"
                    >
                        <option value="">{t('all')}</option>
                        {(integrations.value?.data ?? []).map((i) => (
                            <option key={i.unique_key} value={i.unique_key}>
                                {i.unique_key}
                            </option>
                        ))}
                    </select>
                </label>
                <label className="db-field">
                    <span>{t('connectionId')}</span>
                    <input
                        value={connection}
                        onChange={(e) => {
                            setConnection(e.target.value);
                            cursors.reset();
                            actionCursors.reset();
                        }}
                        data-testid="sync-connection"
                    />
                </label>
                <label className="db-field">
                    <span>{t('status')}</span>
                    <select
                        value={status}
                        onChange={(e) => {
                            setStatus(e.target.value);
                            cursors.reset();
                            actionCursors.reset();
                        }}
                    >
                        <option value="">{t('all')}</option>
                        {['QUEUED', 'RUNNING', 'SUCCESS', 'ERROR', 'STOPPED'].map((s) => (
                            <option key={s} value={s}>
                                {s}
                            </option>
                        ))}
                    </select>
                </label>
            </div>

            <h2>{t('deployed')}</h2>
            {deployed.error ? <ErrorLine text={errorText(t, deployed.error)} /> : null}
            <DeployedFunctions groups={(deployed.value ?? []).filter((g) => !integration || g.providerConfigKey === integration)} />

            <h2>{t('syncsOf')}</h2>
            {!integration ? <p className="db-muted">{t('chooseConnection')}</p> : null}
            {syncs.error ? <ErrorLine text={errorText(t, syncs.error)} /> : null}
            {integration && syncs.value && syncs.value.syncs.length === 0 ? <p className="db-muted">{t('empty')}</p> : null}
            {syncs.value && syncs.value.syncs.length > 0 ? (
                <table className="db-table" data-testid="syncs">
                    <thead>
                        <tr>
                            <th>{t('sync')}</th>
                            <th>{t('connectionId')}</th>
                            <th>{t('status')}</th>
                            <th>{t('frequency')}</th>
                            <th>{t('nextRun')}</th>
                            <th>{t('records')}</th>
                            <th />
                        </tr>
                    </thead>
                    <tbody>
                        {syncs.value.syncs.map((s) => (
                            <tr key={`${s.name}/${s.variant}/${s.connection_id}`} data-testid={`sync-${s.name}`}>
                                <td data-label={t('sync')}>
                                    <strong>{s.name}</strong>
                                    {s.variant !== 'base' ? <span className="db-muted"> ({s.variant})</span> : null}
                                </td>
                                <td data-label={t('connectionId')}>
                                    <code>{s.connection_id}</code>
                                </td>
                                <td data-label={t('status')}>
                                    <Badge value={s.status} />
                                </td>
                                <td data-label={t('frequency')}>{s.frequency ?? ''}</td>
                                <td data-label={t('nextRun')}>{formatTime(lang, s.nextScheduledSyncAt)}</td>
                                <td data-label={t('records')}>
                                    {Object.entries(s.recordCount)
                                        .map(([m, n]) => `${m}: ${n}`)
                                        .join(', ')}
                                </td>
                                <td className="db-actions-cell">
                                    <div className="db-row-actions">
                                        <button
                                            type="button"
                                            className="db-button"
                                            onClick={() => command('/sync/trigger', s, t('triggered'))}
                                            data-testid="trigger"
                                        >
                                            {t('trigger')}
                                        </button>
                                        {s.status === 'PAUSED' ? (
                                            <button
                                                type="button"
                                                className="db-button"
                                                onClick={() => command('/sync/start', s, t('resumed'))}
                                                data-testid="resume"
                                            >
                                                {t('resume')}
                                            </button>
                                        ) : (
                                            <button
                                                type="button"
                                                className="db-button"
                                                onClick={() => command('/sync/pause', s, t('paused'))}
                                                data-testid="pause"
                                            >
                                                {t('pause')}
                                            </button>
                                        )}
                                        <button
                                            type="button"
                                            className="db-button db-danger"
                                            onClick={() => {
                                                if (!window.confirm(t('confirmReset', { name: s.name }))) return;
                                                void command('/sync/trigger', s, t('resetDone'), { sync_mode: 'full_refresh' });
                                            }}
                                            data-testid="reset"
                                        >
                                            {t('reset')}
                                        </button>
                                    </div>
                                </td>
                            </tr>
                        ))}
                    </tbody>
                </table>
            ) : null}

            <h2>{t('runs')}</h2>
            <ListStatus list={runs} />
            {runs.value && runs.value.data.length > 0 ? (
                <table className="db-table" data-testid="runs">
                    <thead>
                        <tr>
                            <th>{t('run')}</th>
                            <th>{t('status')}</th>
                            <th>{t('started')}</th>
                            <th>{t('duration')}</th>
                            <th>{t('counts')}</th>
                            <th>{t('error')}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {runs.value.data.map((r) => {
                            const c = totals(r.result);
                            return (
                                <tr key={r.id} data-testid={`run-${r.id}`}>
                                    <td data-label={t('run')}>
                                        <strong>{r.sync}</strong> <span className="db-muted">#{r.id}</span>
                                        {r.reset ? (
                                            <span className="db-muted db-small" data-testid="run-reset">
                                                {' '}
                                                · {t('fullResync')}
                                            </span>
                                        ) : null}
                                        <br />
                                        <span className="db-muted db-small">
                                            {r.provider_config_key} / {r.connection_id}
                                        </span>
                                    </td>
                                    <td data-label={t('status')}>
                                        <Badge value={r.status} />
                                    </td>
                                    <td data-label={t('started')}>{formatTime(lang, r.started_at ?? r.queued_at)}</td>
                                    <td data-label={t('duration')}>{duration(r)}</td>
                                    <td data-label={t('counts')} data-testid="run-counts">
                                        {c.added} / {c.updated} / {c.deleted}
                                    </td>
                                    <td data-label={t('error')}>
                                        {r.error ? <Json value={r.error} summary={t('details')} /> : <span className="db-muted">—</span>}
                                    </td>
                                </tr>
                            );
                        })}
                    </tbody>
                </table>
            ) : null}
            <Pager
                hasPrevious={cursors.depth > 1}
                onPrevious={cursors.pop}
                hasNext={runs.value?.next_cursor != null}
                onNext={() => runs.value?.next_cursor && cursors.push(Number(runs.value.next_cursor))}
            />

            <h2>{t('actionRuns')}</h2>
            <ListStatus list={actions} />
            {actions.value && actions.value.data.length > 0 ? (
                <table className="db-table" data-testid="action-runs">
                    <thead>
                        <tr>
                            <th>{t('action')}</th>
                            <th>{t('status')}</th>
                            <th>{t('started')}</th>
                            <th>{t('duration')}</th>
                            <th>
                                {t('input')} / {t('output')}
                            </th>
                            <th>{t('error')}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {actions.value.data.map((r) => (
                            <tr key={r.id} data-testid={`action-run-${r.id}`}>
                                <td data-label={t('action')}>
                                    <strong>{r.action}</strong> <span className="db-muted">#{r.id}</span>
                                    <br />
                                    <span className="db-muted db-small">
                                        {r.provider_config_key} / {r.connection_id ?? '—'} · {t(r.mode === 'async' ? 'modeAsync' : 'modeSync')}
                                    </span>
                                </td>
                                <td data-label={t('status')}>
                                    <Badge value={r.status} />
                                </td>
                                <td data-label={t('started')}>{formatTime(lang, r.started_at ?? r.queued_at)}</td>
                                <td data-label={t('duration')}>{duration(r)}</td>
                                <td data-label={`${t('input')} / ${t('output')}`} data-testid="action-sizes">
                                    {bytes(r.input_bytes)} / {bytes(r.output_bytes)}
                                </td>
                                <td data-label={t('error')} data-testid="action-error">
                                    {r.error ? (
                                        <span className="db-error-text" title={r.error.message ?? undefined}>
                                            {r.error.type}
                                        </span>
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
                hasPrevious={actionCursors.depth > 1}
                onPrevious={actionCursors.pop}
                hasNext={actions.value?.next_cursor != null}
                onNext={() => actions.value?.next_cursor && actionCursors.push(Number(actions.value.next_cursor))}
            />
        </section>
    );
}

interface DeployedFunction {
    name: string;
    type: string;
    runs: string | null;
    returns: string[];
    description: string;
    last_deployed: string;
}

interface DeployedGroup {
    providerConfigKey: string;
    syncs: DeployedFunction[];
    actions: DeployedFunction[];
}

/** What is deployed, per integration (GET /scripts/config): each sync with its frequency and models, each action. */
function DeployedFunctions({ groups }: { groups: DeployedGroup[] }) {
    const { t, lang } = useDash();
    const rows = groups.flatMap((g) => [...g.syncs, ...g.actions].map((f) => ({ key: g.providerConfigKey, f })));
    if (rows.length === 0) return <p className="db-muted">{t('empty')}</p>;
    return (
        <table className="db-table" data-testid="deployed-functions">
            <thead>
                <tr>
                    <th>{t('integration')}</th>
                    <th>{t('fn')}</th>
                    <th>{t('frequency')}</th>
                    <th>{t('models')}</th>
                    <th>{t('lastDeployed')}</th>
                </tr>
            </thead>
            <tbody>
                {rows.map(({ key, f }) => (
                    <tr key={`${key}/${f.type}/${f.name}`}>
                        <td data-label={t('integration')}>
                            <code>{key}</code>
                        </td>
                        <td data-label={t('fn')}>
                            <strong>{f.name}</strong> <span className="db-muted db-small">{f.type}</span>
                            {f.description ? <div className="db-small db-muted">{f.description}</div> : null}
                        </td>
                        <td data-label={t('frequency')}>{f.runs ?? '—'}</td>
                        <td data-label={t('models')}>{f.returns.join(', ') || '—'}</td>
                        <td data-label={t('lastDeployed')}>{formatTime(lang, f.last_deployed)}</td>
                    </tr>
                ))}
            </tbody>
        </table>
    );
}
