// Syncs: each sync of an integration (or one connection) with its state and actions (run now, pause, resume), and
// the environment's sync runs, newest first, paged by cursor on the server, with counts and errors.
import { useState } from 'react';
import type { ActionRunRow, Integration, RunRow, SyncStatusRow } from '../api.ts';
import { errorText, useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { Badge, bytes, type Column, CursorPager, DataTable, ErrorLine, Json, ListTable, PageHeader, refilter, SelectFilter, useCursorStack } from '../ui.tsx';

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

    const resetCursors = () => {
        cursors.reset();
        actionCursors.reset();
    };

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

    const runColumns: Array<Column<RunRow>> = [
        {
            label: t('run'),
            cell: (r) => (
                <>
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
                </>
            )
        },
        { label: t('status'), cell: (r) => <Badge value={r.status} /> },
        { label: t('started'), cell: (r) => formatTime(lang, r.started_at ?? r.queued_at) },
        { label: t('duration'), cell: (r) => duration(r) },
        {
            label: t('counts'),
            testId: 'run-counts',
            cell: (r) => {
                const c = totals(r.result);
                return (
                    <>
                        {c.added} / {c.updated} / {c.deleted}
                    </>
                );
            }
        },
        {
            label: t('error'),
            cell: (r) => (r.error ? <Json value={r.error} summary={t('details')} /> : <span className="db-muted">—</span>)
        }
    ];
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
                <SelectFilter
                    label={t('integration')}
                    value={integration}
                    onChange={refilter(setIntegration, resetCursors)}
                    options={(integrations.value?.data ?? []).map((i) => i.unique_key)}
                    testId="sync-integration"
                />
                <label className="db-field">
                    <span>{t('connectionId')}</span>
                    <input value={connection} onChange={(e) => refilter(setConnection, resetCursors)(e.target.value)} data-testid="sync-connection" />
                </label>
                <SelectFilter
                    label={t('status')}
                    value={status}
                    onChange={refilter(setStatus, resetCursors)}
                    options={['QUEUED', 'RUNNING', 'SUCCESS', 'ERROR', 'STOPPED']}
                />
            </div>

            <h2>{t('deployed')}</h2>
            {deployed.error ? <ErrorLine text={errorText(t, deployed.error)} /> : null}
            <DeployedFunctions groups={(deployed.value ?? []).filter((g) => !integration || g.providerConfigKey === integration)} />

            <h2>{t('syncsOf')}</h2>
            {!integration ? <p className="db-muted">{t('chooseConnection')}</p> : null}
            {syncs.error ? <ErrorLine text={errorText(t, syncs.error)} /> : null}
            {integration && syncs.value && syncs.value.syncs.length === 0 ? <p className="db-muted">{t('empty')}</p> : null}
            <DataTable
                testId="syncs"
                rows={syncs.value?.syncs ?? []}
                rowKey={(s) => `${s.name}/${s.variant}/${s.connection_id}`}
                rowTestId={(s) => `sync-${s.name}`}
                columns={[
                    {
                        label: t('sync'),
                        cell: (s) => (
                            <>
                                <strong>{s.name}</strong>
                                {s.variant !== 'base' ? <span className="db-muted"> ({s.variant})</span> : null}
                            </>
                        )
                    },
                    { label: t('connectionId'), cell: (s) => <code>{s.connection_id}</code> },
                    { label: t('status'), cell: (s) => <Badge value={s.status} /> },
                    { label: t('frequency'), cell: (s) => s.frequency ?? '' },
                    { label: t('nextRun'), cell: (s) => formatTime(lang, s.nextScheduledSyncAt) },
                    {
                        label: t('records'),
                        cell: (s) =>
                            Object.entries(s.recordCount)
                                .map(([m, n]) => `${m}: ${n}`)
                                .join(', ')
                    },
                    {
                        actions: (s) => (
                            <>
                                <button type="button" className="db-button" onClick={() => command('/sync/trigger', s, t('triggered'))} data-testid="trigger">
                                    {t('trigger')}
                                </button>
                                {s.status === 'PAUSED' ? (
                                    <button type="button" className="db-button" onClick={() => command('/sync/start', s, t('resumed'))} data-testid="resume">
                                        {t('resume')}
                                    </button>
                                ) : (
                                    <button type="button" className="db-button" onClick={() => command('/sync/pause', s, t('paused'))} data-testid="pause">
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
                            </>
                        )
                    }
                ]}
            />

            <h2>{t('runs')}</h2>
            <ListTable list={runs} testId="runs" rowKey={(r) => r.id} rowTestId={(r) => `run-${r.id}`} columns={runColumns} />
            <CursorPager cursors={cursors} next={runs.value?.next_cursor} />

            <h2>{t('actionRuns')}</h2>
            <ListTable
                list={actions}
                testId="action-runs"
                rowKey={(r) => r.id}
                rowTestId={(r) => `action-run-${r.id}`}
                columns={[
                    {
                        label: t('action'),
                        cell: (r) => (
                            <>
                                <strong>{r.action}</strong> <span className="db-muted">#{r.id}</span>
                                <br />
                                <span className="db-muted db-small">
                                    {r.provider_config_key} / {r.connection_id ?? '—'} · {t(r.mode === 'async' ? 'modeAsync' : 'modeSync')}
                                </span>
                            </>
                        )
                    },
                    { label: t('status'), cell: (r) => <Badge value={r.status} /> },
                    { label: t('started'), cell: (r) => formatTime(lang, r.started_at ?? r.queued_at) },
                    { label: t('duration'), cell: (r) => duration(r) },
                    {
                        label: `${t('input')} / ${t('output')}`,
                        head: (
                            <>
                                {t('input')} / {t('output')}
                            </>
                        ),
                        testId: 'action-sizes',
                        cell: (r) => (
                            <>
                                {bytes(r.input_bytes)} / {bytes(r.output_bytes)}
                            </>
                        )
                    },
                    {
                        label: t('error'),
                        testId: 'action-error',
                        cell: (r) =>
                            r.error ? (
                                <span className="db-error-text" title={r.error.message ?? undefined}>
                                    {r.error.type}
                                </span>
                            ) : (
                                <span className="db-muted">—</span>
                            )
                    }
                ]}
            />
            <CursorPager cursors={actionCursors} next={actions.value?.next_cursor} />
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
        <DataTable
            testId="deployed-functions"
            rows={rows}
            rowKey={({ key, f }) => `${key}/${f.type}/${f.name}`}
            columns={[
                { label: t('integration'), cell: ({ key }) => <code>{key}</code> },
                {
                    label: t('fn'),
                    cell: ({ f }) => (
                        <>
                            <strong>{f.name}</strong> <span className="db-muted db-small">{f.type}</span>
                            {f.description ? <div className="db-small db-muted">{f.description}</div> : null}
                        </>
                    )
                },
                { label: t('frequency'), cell: ({ f }) => f.runs ?? '—' },
                { label: t('models'), cell: ({ f }) => f.returns.join(', ') || '—' },
                { label: t('lastDeployed'), cell: ({ f }) => formatTime(lang, f.last_deployed) }
            ]}
        />
    );
}
