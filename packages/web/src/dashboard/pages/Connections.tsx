// Connections: filtered and paged on the server, each with its status, last refresh and the provider's last
// refusal; force a refresh, delete (the API revokes where the provider allows), or make a reconnect link.
import { useState } from 'react';
import type { ConnectionRow, Integration } from '../api.ts';
import { errorText, useDash, useLoad } from '../context.tsx';
import { formatTime, type DashKey } from '../i18n.ts';
import { Badge, Dialog, Json, ListTable, PageHeader, Pager, SelectFilter, Stacked } from '../ui.tsx';

const statusLabel: Record<string, DashKey> = { active: 'statusActive', expired: 'statusExpired', revoked: 'statusRevoked', failing: 'statusFailing' };

export function ConnectionsPage() {
    const { api, t, lang, notify } = useDash();
    const integrations = useLoad(() => api.call<{ data: Integration[] }>('GET', '/integrations'), []);
    const [filters, setFilters] = useState({ integration: '', end_user: '', organization: '', tags: '', status: '', search: '' });
    const [page, setPage] = useState(0);
    const list = useLoad(
        () => api.call<{ data: ConnectionRow[]; next_page: number | null }>('GET', '/connection-list', { query: { ...filters, page, limit: 20 } }),
        [filters, page]
    );
    const [link, setLink] = useState<{ url: string; fresh: boolean } | null>(null);
    const [newLink, setNewLink] = useState<{ integration: string; endUser: string; email: string } | null>(null);
    const set = (k: keyof typeof filters) => (value: string) => {
        setFilters((f) => ({ ...f, [k]: value }));
        setPage(0);
    };
    const integrationKeys = (integrations.value?.data ?? []).map((i) => i.unique_key);
    const q = (c: ConnectionRow) => `/connections/${encodeURIComponent(c.connection_id)}`;

    const act = async (what: () => Promise<unknown>, done: string) => {
        try {
            await what();
            notify(done);
            list.reload();
        } catch (err) {
            notify(errorText(t, err), 'error');
        }
    };
    const refresh = (c: ConnectionRow) =>
        // The answer carries the fresh credentials: the dashboard drops it unread and shows only the outcome.
        act(() => api.call('GET', q(c), { query: { provider_config_key: c.provider_config_key, force_refresh: 'true' } }), t('refreshed'));
    const remove = (c: ConnectionRow) => {
        if (!window.confirm(t('confirmDelete', { name: c.connection_id }))) return;
        void act(() => api.call('DELETE', q(c), { query: { provider_config_key: c.provider_config_key } }), t('deleted'));
    };
    const reconnect = async (c: ConnectionRow) => {
        try {
            const r = await api.call<{ data: { connect_link: string } }>('POST', '/connect/sessions/reconnect', {
                body: { connection_id: c.connection_id, integration_id: c.provider_config_key }
            });
            setLink({ url: r.data.connect_link, fresh: false });
        } catch (err) {
            notify(errorText(t, err), 'error');
        }
    };

    // A connect session for a new connection: the end user opens the link and connects in the Connect UI.
    const createLink = async (e: React.FormEvent) => {
        e.preventDefault();
        if (!newLink) return;
        try {
            const r = await api.call<{ data: { connect_link: string } }>('POST', '/connect/sessions', {
                body: {
                    end_user: { id: newLink.endUser, ...(newLink.email ? { email: newLink.email } : {}) },
                    ...(newLink.integration ? { allowed_integrations: [newLink.integration] } : {})
                }
            });
            setNewLink(null);
            setLink({ url: r.data.connect_link, fresh: true });
        } catch (err) {
            notify(errorText(t, err), 'error');
        }
    };

    return (
        <section>
            <PageHeader title={t('navConnections')}>
                <button
                    type="button"
                    className="db-button db-primary"
                    onClick={() => setNewLink({ integration: filters.integration, endUser: '', email: '' })}
                    data-testid="new-connect-link"
                >
                    {t('newConnectLink')}
                </button>
                <button type="button" className="db-button" onClick={list.reload}>
                    {t('refresh')}
                </button>
            </PageHeader>
            <div className="db-filters">
                <SelectFilter
                    label={t('integration')}
                    value={filters.integration}
                    onChange={set('integration')}
                    options={integrationKeys}
                    testId="filter-integration"
                />
                <label className="db-field">
                    <span>{t('endUser')}</span>
                    <input value={filters.end_user} onChange={(e) => set('end_user')(e.target.value)} />
                </label>
                <label className="db-field">
                    <span>{t('organization')}</span>
                    <input value={filters.organization} onChange={(e) => set('organization')(e.target.value)} data-testid="filter-organization" />
                </label>
                <label className="db-field">
                    <span>{t('tags')}</span>
                    <input value={filters.tags} placeholder={t('tagsHint')} onChange={(e) => set('tags')(e.target.value)} data-testid="filter-tags" />
                </label>
                <SelectFilter
                    label={t('status')}
                    value={filters.status}
                    onChange={set('status')}
                    options={Object.entries(statusLabel).map(([value, k]) => ({ value, label: t(k) }))}
                    testId="filter-status"
                />
                <label className="db-field">
                    <span>{t('connectionId')}</span>
                    <input type="search" value={filters.search} onChange={(e) => set('search')(e.target.value)} />
                </label>
            </div>
            <ListTable
                list={list}
                testId="connections"
                rowKey={(c) => `${c.provider_config_key}/${c.connection_id}`}
                rowTestId={(c) => `connection-${c.connection_id}`}
                columns={[
                    {
                        label: t('connectionId'),
                        cell: (c) => <Stacked main={<code>{c.connection_id}</code>} sub={c.provider_config_key} />
                    },
                    {
                        label: t('endUser'),
                        cell: (c) => (
                            <>
                                {c.end_user ? (c.end_user.email ?? c.end_user.display_name ?? c.end_user.id) : <span className="db-muted">—</span>}
                                {c.end_user?.organization ? <span className="db-muted db-small"> · {c.end_user.organization.id}</span> : null}
                                {Object.keys(c.tags ?? {}).length > 0 ? (
                                    <span className="db-tags">
                                        {Object.entries(c.tags).map(([k, v]) => (
                                            <span key={k} className="db-tag">
                                                {k}: {v}
                                            </span>
                                        ))}
                                    </span>
                                ) : null}
                            </>
                        )
                    },
                    {
                        label: t('status'),
                        cell: (c) => (
                            <>
                                <Badge value={c.status} label={t(statusLabel[c.status] ?? 'statusActive')} />
                                {c.refresh_error ? <Badge value="failed" label={t('statusFailing')} /> : null}
                            </>
                        )
                    },
                    {
                        label: t('lastRefresh'),
                        cell: (c) => (c.refreshed_at ? formatTime(lang, c.refreshed_at) : <span className="db-muted">{t('never')}</span>)
                    },
                    {
                        label: t('lastRefusal'),
                        cell: (c) =>
                            c.refresh_error ? (
                                <span className="db-error-text">
                                    {c.refresh_error.description || c.refresh_error.type}
                                    <br />
                                    <span className="db-muted db-small">{formatTime(lang, c.refresh_failed_at)}</span>
                                </span>
                            ) : (
                                <span className="db-muted">{t('none')}</span>
                            )
                    },
                    { label: t('metadata'), cell: (c) => <Json value={c.metadata} summary={t('details')} /> },
                    {
                        actions: (c) => (
                            <>
                                <button type="button" className="db-button" onClick={() => refresh(c)}>
                                    {t('forceRefresh')}
                                </button>
                                <button type="button" className="db-button" onClick={() => reconnect(c)}>
                                    {t('reconnectLink')}
                                </button>
                                <a
                                    className="db-button"
                                    href={`#/syncs?${new URLSearchParams({ integration: c.provider_config_key, connection: c.connection_id })}`}
                                    data-testid={`syncs-of-${c.connection_id}`}
                                >
                                    {t('connectionSyncs')}
                                </a>
                                <button type="button" className="db-button db-danger" onClick={() => remove(c)}>
                                    {t('delete')}
                                </button>
                            </>
                        )
                    }
                ]}
            />
            <Pager
                hasPrevious={page > 0}
                onPrevious={() => setPage((p) => p - 1)}
                hasNext={list.value?.next_page != null}
                onNext={() => setPage((p) => p + 1)}
            />
            {newLink ? (
                <Dialog title={t('newConnectLink')} onClose={() => setNewLink(null)}>
                    <form className="db-form" onSubmit={createLink}>
                        <SelectFilter
                            label={t('integration')}
                            value={newLink.integration}
                            onChange={(integration) => setNewLink({ ...newLink, integration })}
                            options={integrationKeys}
                            testId="link-integration"
                        />
                        <label className="db-field">
                            <span>{t('endUserId')}</span>
                            <input
                                required
                                maxLength={255}
                                value={newLink.endUser}
                                onChange={(e) => setNewLink({ ...newLink, endUser: e.target.value })}
                                data-testid="link-end-user"
                            />
                        </label>
                        <label className="db-field">
                            <span>
                                {t('endUserEmail')} <span className="db-muted">({t('optional')})</span>
                            </span>
                            <input type="email" value={newLink.email} onChange={(e) => setNewLink({ ...newLink, email: e.target.value })} />
                        </label>
                        <button type="submit" className="db-button db-primary" data-testid="create-link">
                            {t('createLink')}
                        </button>
                    </form>
                </Dialog>
            ) : null}
            {link ? (
                <Dialog title={t(link.fresh ? 'newConnectLink' : 'reconnectLink')} onClose={() => setLink(null)}>
                    <p>{t(link.fresh ? 'connectLinkIntro' : 'reconnectIntro')}</p>
                    <p className="db-break">
                        <code data-testid={link.fresh ? 'connect-link' : 'reconnect-link'}>{link.url}</code>
                    </p>
                    <a className="db-button db-primary" href={link.url} target="_blank" rel="noreferrer noopener">
                        {t('open')}
                    </a>
                </Dialog>
            ) : null}
        </section>
    );
}
