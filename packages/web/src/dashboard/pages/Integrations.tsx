// Integrations: the environment's list, creation from the catalogue (search, categories, logos, the callback URL
// and the fields the provider needs), edit with write-only secrets, delete.
import { useState, type FormEvent } from 'react';
import type { CatalogueEntry, Integration, ProviderDetail } from '../api.ts';
import { errorText, useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { type Column, CursorPager, Dialog, ErrorLine, ListTable, Loading, PageHeader, Pager, refilter, SelectFilter, useCursorStack } from '../ui.tsx';

const logoOf = (provider: string) => `/images/template-logos/${encodeURIComponent(provider)}.svg`;

export function Logo({ provider }: { provider: string }) {
    const [failed, setFailed] = useState(false);
    if (failed) return <span className="db-logo db-logo-fallback">{provider.slice(0, 1).toUpperCase()}</span>;
    return <img className="db-logo" src={logoOf(provider)} alt="" width={28} height={28} onError={() => setFailed(true)} />;
}

type Editing = { kind: 'create'; provider: string } | { kind: 'edit'; integration: Integration };

export function IntegrationsPage() {
    const { api, t, lang, notify } = useDash();
    const cursors = useCursorStack<string>();
    const list = useLoad(
        () => api.call<{ data: Integration[]; next_cursor: string | null }>('GET', '/integration-list', { query: { cursor: cursors.cursor, limit: 25 } }),
        [cursors.cursor]
    );
    const [picking, setPicking] = useState(false);
    const [editing, setEditing] = useState<Editing | null>(null);

    const remove = async (i: Integration) => {
        if (!window.confirm(t('confirmDelete', { name: i.unique_key }))) return;
        try {
            await api.call('DELETE', `/integrations/${encodeURIComponent(i.unique_key)}`);
            notify(t('deleted'));
            list.reload();
        } catch (err) {
            notify(errorText(t, err), 'error');
        }
    };

    const columns: Array<Column<Integration>> = [
        {
            label: t('integration'),
            cell: (i) => (
                <span className="db-with-logo">
                    <Logo provider={i.provider} />
                    <span>
                        <strong>{i.display_name}</strong>
                        <br />
                        <code>{i.unique_key}</code>
                    </span>
                </span>
            )
        },
        { label: t('provider'), cell: (i) => i.provider },
        { label: t('created'), cell: (i) => formatTime(lang, i.created_at) },
        {
            actions: (i) => (
                <>
                    <button type="button" className="db-button" onClick={() => setEditing({ kind: 'edit', integration: i })}>
                        {t('edit')}
                    </button>
                    <button type="button" className="db-button db-danger" onClick={() => remove(i)}>
                        {t('delete')}
                    </button>
                </>
            )
        }
    ];
    return (
        <section>
            <PageHeader title={t('navIntegrations')}>
                <button type="button" className="db-button db-primary" onClick={() => setPicking(true)} data-testid="new-integration">
                    {t('newIntegration')}
                </button>
            </PageHeader>
            <ListTable list={list} testId="integrations" rowKey={(i) => i.unique_key} rowTestId={(i) => `integration-${i.unique_key}`} columns={columns} />
            <CursorPager cursors={cursors} next={list.value?.next_cursor} />
            {picking ? (
                <Catalogue
                    onClose={() => setPicking(false)}
                    onPick={(provider) => {
                        setPicking(false);
                        setEditing({ kind: 'create', provider });
                    }}
                />
            ) : null}
            {editing ? (
                <IntegrationForm
                    editing={editing}
                    onClose={() => setEditing(null)}
                    onSaved={() => {
                        setEditing(null);
                        notify(t('saved'));
                        list.reload();
                    }}
                />
            ) : null}
        </section>
    );
}

interface CataloguePage {
    data: CatalogueEntry[];
    categories: string[];
    total: number;
    next_page: number | null;
}

function Catalogue({ onClose, onPick }: { onClose: () => void; onPick: (provider: string) => void }) {
    const { api, t } = useDash();
    const [search, setSearch] = useState('');
    const [category, setCategory] = useState('');
    const [page, setPage] = useState(0);
    const result = useLoad(() => api.call<CataloguePage>('GET', '/catalogue', { query: { search, category, page, limit: 24 } }), [search, category, page]);
    return (
        <Dialog title={t('catalogue')} onClose={onClose}>
            <div className="db-filters">
                <label className="db-field">
                    <span>{t('search')}</span>
                    <input
                        type="search"
                        value={search}
                        onChange={(e) => {
                            setSearch(e.target.value);
                            setPage(0);
                        }}
                        data-testid="catalogue-search"
                    />
                </label>
                <SelectFilter
                    label={t('category')}
                    value={category}
                    onChange={refilter(setCategory, () => setPage(0))}
                    options={result.value?.categories ?? []}
                    blank={t('allCategories')}
                />
            </div>
            {result.error ? <ErrorLine text={errorText(t, result.error)} /> : null}
            {result.value ? <p className="db-muted">{t('providersFound', { count: String(result.value.total) })}</p> : <Loading />}
            <ul className="db-catalogue">
                {(result.value?.data ?? []).map((p) => (
                    <li key={p.name}>
                        <button type="button" onClick={() => onPick(p.name)} data-testid={`provider-${p.name}`}>
                            <Logo provider={p.name} />
                            <span>
                                <strong>{p.display_name}</strong>
                                <span className="db-muted db-small">
                                    {p.auth_mode}
                                    {p.categories.length ? ` · ${p.categories.slice(0, 2).join(', ')}` : ''}
                                </span>
                            </span>
                        </button>
                    </li>
                ))}
            </ul>
            <Pager
                hasPrevious={page > 0}
                onPrevious={() => setPage((p) => p - 1)}
                hasNext={result.value?.next_page != null}
                onNext={() => setPage((p) => p + 1)}
            />
        </Dialog>
    );
}

const OAUTH_MODES = new Set(['OAUTH1', 'OAUTH2', 'TBA']);

function FieldList({
    title,
    fields
}: {
    title: string;
    fields: Record<string, { title?: string; description?: string; optional?: boolean; automated?: boolean; hidden?: boolean }> | undefined;
}) {
    const { t } = useDash();
    const shown = Object.entries(fields ?? {}).filter(([, f]) => !f.automated && !f.hidden);
    return (
        <div className="db-fieldlist">
            <h3>{title}</h3>
            {shown.length === 0 ? (
                <p className="db-muted">{t('noFields')}</p>
            ) : (
                <ul>
                    {shown.map(([name, f]) => (
                        <li key={name}>
                            <code>{name}</code> {f.title ? <strong>{f.title}</strong> : null}
                            {f.optional ? <span className="db-muted"> ({t('optional')})</span> : null}
                            {f.description ? <span className="db-muted db-small"> — {f.description}</span> : null}
                        </li>
                    ))}
                </ul>
            )}
        </div>
    );
}

function IntegrationForm({ editing, onClose, onSaved }: { editing: Editing; onClose: () => void; onSaved: () => void }) {
    const { api, t } = useDash();
    const providerName = editing.kind === 'create' ? editing.provider : editing.integration.provider;
    const detail = useLoad(
        () =>
            Promise.all([
                api.call<{ data: ProviderDetail }>('GET', `/providers/${encodeURIComponent(providerName)}`),
                api.call<{ data: { effective_callback_url: string } }>('GET', '/admin/environment/callback-url')
            ]),
        [providerName]
    );
    const [uniqueKey, setUniqueKey] = useState(editing.kind === 'create' ? editing.provider : editing.integration.unique_key);
    const [displayName, setDisplayName] = useState(editing.kind === 'edit' ? editing.integration.display_name : '');
    const [clientId, setClientId] = useState('');
    const [clientSecret, setClientSecret] = useState('');
    const [scopes, setScopes] = useState('');
    const [appId, setAppId] = useState('');
    const [appLink, setAppLink] = useState('');
    const [privateKey, setPrivateKey] = useState('');
    const [error, setError] = useState<string | undefined>();
    const [busy, setBusy] = useState(false);
    const [copied, setCopied] = useState(false);

    const provider = detail.value?.[0].data;
    const callback = detail.value?.[1].data.effective_callback_url;
    const mode = provider?.auth_mode ?? '';
    const oauth = OAUTH_MODES.has(mode);
    const app = mode === 'APP';
    const credentials = (): Record<string, string> | undefined => {
        if (oauth && (clientId || clientSecret || scopes || editing.kind === 'create'))
            return { type: mode === 'TBA' ? 'TBA' : mode, client_id: clientId, client_secret: clientSecret, ...(scopes ? { scopes } : {}) };
        if (app && (appId || appLink || privateKey || editing.kind === 'create'))
            return { type: 'APP', app_id: appId, app_link: appLink, private_key: privateKey };
        return undefined;
    };

    const submit = async (e: FormEvent) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        const creds = credentials();
        try {
            if (editing.kind === 'create') {
                await api.call('POST', '/integrations', {
                    body: {
                        provider: providerName,
                        unique_key: uniqueKey,
                        ...(displayName ? { display_name: displayName } : {}),
                        ...(creds ? { credentials: creds } : {})
                    }
                });
            } else {
                await api.call('PATCH', `/integrations/${encodeURIComponent(editing.integration.unique_key)}`, {
                    body: {
                        ...(uniqueKey !== editing.integration.unique_key ? { unique_key: uniqueKey } : {}),
                        ...(displayName ? { display_name: displayName } : {}),
                        ...(creds ? { credentials: creds } : {})
                    }
                });
            }
            onSaved();
        } catch (err) {
            setError(errorText(t, err));
        } finally {
            setBusy(false);
        }
    };

    const title = editing.kind === 'create' ? (provider?.display_name ?? providerName) : t('editIntegration', { name: editing.integration.unique_key });
    const secretHint = editing.kind === 'edit' ? t('secretPlaceholder') : undefined;
    return (
        <Dialog title={title} onClose={onClose}>
            {detail.error ? <ErrorLine text={errorText(t, detail.error)} /> : null}
            {!provider ? (
                <Loading />
            ) : (
                <form className="db-form" onSubmit={submit} data-testid="integration-form">
                    <div className="db-with-logo">
                        <Logo provider={providerName} />
                        <span>
                            <strong>{provider.display_name}</strong>
                            <span className="db-muted db-small">
                                {' '}
                                · {t('authMode')}: {mode}
                            </span>
                        </span>
                    </div>
                    {provider.docs ? (
                        <a href={provider.docs} target="_blank" rel="noreferrer noopener">
                            {t('docs')}
                        </a>
                    ) : null}
                    <label className="db-field">
                        <span>{t('uniqueKey')}</span>
                        <input
                            value={uniqueKey}
                            onChange={(e) => setUniqueKey(e.target.value)}
                            required
                            pattern="[a-zA-Z0-9~:.@ _\-]+"
                            data-testid="unique-key"
                        />
                    </label>
                    <label className="db-field">
                        <span>{t('displayName')}</span>
                        <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} placeholder={provider.display_name} />
                    </label>
                    {oauth && callback ? (
                        <div className="db-field">
                            <span>{t('callbackUrl')}</span>
                            <div className="db-copy">
                                <code data-testid="callback-url">{callback}</code>
                                <button
                                    type="button"
                                    className="db-button"
                                    onClick={() => {
                                        void navigator.clipboard?.writeText(callback).then(() => setCopied(true));
                                    }}
                                >
                                    {copied ? t('copied') : t('copy')}
                                </button>
                            </div>
                        </div>
                    ) : null}
                    {oauth ? (
                        <>
                            <label className="db-field">
                                <span>{t('clientId')}</span>
                                <input
                                    value={clientId}
                                    onChange={(e) => setClientId(e.target.value)}
                                    required={editing.kind === 'create'}
                                    placeholder={secretHint}
                                    data-testid="client-id"
                                />
                            </label>
                            <label className="db-field">
                                <span>{t('clientSecret')}</span>
                                <input
                                    type="password"
                                    autoComplete="off"
                                    value={clientSecret}
                                    onChange={(e) => setClientSecret(e.target.value)}
                                    required={editing.kind === 'create' || !!clientId || !!scopes}
                                    placeholder={secretHint}
                                    data-testid="client-secret"
                                />
                            </label>
                            <label className="db-field">
                                <span>{t('scopes')}</span>
                                <input
                                    value={scopes}
                                    onChange={(e) => setScopes(e.target.value)}
                                    placeholder={provider.default_scopes?.join(',') ?? secretHint}
                                    data-testid="scopes"
                                />
                            </label>
                            <p className="db-muted db-small">{t('secretWriteOnly')}</p>
                        </>
                    ) : app ? (
                        <>
                            <label className="db-field">
                                <span>{t('appId')}</span>
                                <input value={appId} onChange={(e) => setAppId(e.target.value)} required={editing.kind === 'create'} placeholder={secretHint} />
                            </label>
                            <label className="db-field">
                                <span>{t('appLink')}</span>
                                <input
                                    value={appLink}
                                    onChange={(e) => setAppLink(e.target.value)}
                                    required={editing.kind === 'create'}
                                    placeholder={secretHint}
                                />
                            </label>
                            <label className="db-field">
                                <span>{t('privateKey')}</span>
                                <textarea
                                    value={privateKey}
                                    onChange={(e) => setPrivateKey(e.target.value)}
                                    rows={4}
                                    required={editing.kind === 'create'}
                                    placeholder={secretHint}
                                />
                            </label>
                            <p className="db-muted db-small">{t('secretWriteOnly')}</p>
                        </>
                    ) : (
                        <p className="db-muted">{t('noClientNeeded')}</p>
                    )}
                    <FieldList title={t('fieldsTitle')} fields={{ ...(provider.credentials ?? {}), ...(provider.connection_config ?? {}) }} />
                    {error ? <ErrorLine text={error} /> : null}
                    <div className="db-form-actions">
                        <button type="button" className="db-button" onClick={onClose}>
                            {t('cancel')}
                        </button>
                        <button type="submit" className="db-button db-primary" disabled={busy} data-testid="save-integration">
                            {editing.kind === 'create' ? t('createIntegration') : t('save')}
                        </button>
                    </div>
                </form>
            )}
        </Dialog>
    );
}
