// The operator dashboard: sign-in, then a shell with the environment switcher and one page per capability.
// Pages are chosen by the URL's hash (#/connections), so a reload or a shared link lands on the same page.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { DashboardApi, DashboardError } from './api.ts';
import { DashProvider, errorText, type Dash } from './context.tsx';
import { dashTranslator, type DashKey, type DashLang } from './i18n.ts';
import { pickLang } from '../i18n.ts';
import { parseMode, defaultSettings, type ThemeMode } from '../theme.ts';
import { useTheme } from '../useTheme.ts';
import { SignIn } from './SignIn.tsx';
import { IntegrationsPage } from './pages/Integrations.tsx';
import { ConnectionsPage } from './pages/Connections.tsx';
import { SyncsPage } from './pages/Syncs.tsx';
import { RecordsPage } from './pages/Records.tsx';
import { WebhooksPage } from './pages/Webhooks.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { ErrorsPage } from './pages/Errors.tsx';

const pages = {
    integrations: { label: 'navIntegrations', Page: IntegrationsPage },
    connections: { label: 'navConnections', Page: ConnectionsPage },
    syncs: { label: 'navSyncs', Page: SyncsPage },
    records: { label: 'navRecords', Page: RecordsPage },
    webhooks: { label: 'navWebhooks', Page: WebhooksPage },
    audit: { label: 'navAudit', Page: AuditPage },
    errors: { label: 'navErrors', Page: ErrorsPage }
} as const satisfies Record<string, { label: DashKey; Page: () => React.JSX.Element }>;
type PageName = keyof typeof pages;

function pageFromHash(): PageName {
    const name = location.hash.replace(/^#\/?/, '').split('?')[0] ?? '';
    return name in pages ? (name as PageName) : 'integrations';
}

const stored = (key: string): string | null => {
    try {
        return localStorage.getItem(key);
    } catch {
        return null;
    }
};
const store = (key: string, value: string) => {
    try {
        localStorage.setItem(key, value);
    } catch {
        // Private mode: the choice lasts for this page only.
    }
};

type SessionState = { kind: 'checking' } | { kind: 'signedOut'; reason?: string } | { kind: 'signedIn'; environments: string[] };

export function DashboardApp() {
    const api = useMemo(() => new DashboardApi(), []);
    const [lang, setLang] = useState<DashLang>(() => pickLang(stored('sb-dashboard-lang'), navigator.languages));
    const [mode, setMode] = useState<ThemeMode>(() => parseMode(stored('sb-dashboard-theme')) ?? 'system');
    const settings = useMemo(() => ({ ...defaultSettings, mode }), [mode]);
    useTheme(settings);
    const t = useMemo(() => dashTranslator(lang), [lang]);
    const [session, setSession] = useState<SessionState>({ kind: 'checking' });
    const [environment, setEnvironment] = useState(() => stored('sb-dashboard-env') ?? '');
    const [page, setPage] = useState<PageName>(pageFromHash);
    const [notice, setNotice] = useState<{ text: string; kind: 'ok' | 'error' } | null>(null);
    const [menuOpen, setMenuOpen] = useState(false);

    useEffect(() => {
        document.documentElement.lang = lang;
    }, [lang]);
    useEffect(() => {
        const on = () => {
            setPage(pageFromHash());
            setMenuOpen(false);
        };
        window.addEventListener('hashchange', on);
        return () => window.removeEventListener('hashchange', on);
    }, []);

    const check = useCallback(async () => {
        if (!api.csrf) return setSession({ kind: 'signedOut' });
        try {
            const r = await api.call<{ data: { environments: string[] } }>('GET', '/session');
            setSession({ kind: 'signedIn', environments: r.data.environments });
            setEnvironment((e) => (r.data.environments.includes(e) ? e : (r.data.environments[0] ?? '')));
        } catch (err) {
            api.forget();
            setSession({ kind: 'signedOut', reason: err instanceof DashboardError && err.status === 401 ? undefined : errorText(t, err) });
        }
    }, [api, t]);

    useEffect(() => {
        api.onSignedOut = () => {
            api.forget();
            setSession({ kind: 'signedOut', reason: t('errSignedOut') });
        };
    }, [api, t]);
    // biome-ignore lint/correctness/useExhaustiveDependencies: checked once at start; sign-in calls it again
    useEffect(() => {
        void check();
    }, []);
    useEffect(() => {
        if (environment) store('sb-dashboard-env', environment);
    }, [environment]);
    useEffect(() => {
        if (!notice) return;
        const timer = setTimeout(() => setNotice(null), 4000);
        return () => clearTimeout(timer);
    }, [notice]);

    const notify = useCallback((text: string, kind: 'ok' | 'error' = 'ok') => setNotice({ text, kind }), []);
    const dash: Dash = useMemo(() => {
        // Set before any page renders: children's effects run before this component's, and their first call
        // must already name the environment.
        api.environment = environment;
        return { api, t, lang, environment, notify };
    }, [api, t, lang, environment, notify]);

    const chooseLang = (l: DashLang) => {
        setLang(l);
        store('sb-dashboard-lang', l);
    };
    const chooseMode = (m: ThemeMode) => {
        setMode(m);
        store('sb-dashboard-theme', m);
    };

    const prefs = (
        <div className="db-prefs">
            <label>
                <span className="db-sr">{t('language')}</span>
                <select value={lang} onChange={(e) => chooseLang(e.target.value as DashLang)} aria-label={t('language')} data-testid="lang">
                    <option value="en">English</option>
                    <option value="fr">Français</option>
                </select>
            </label>
            <label>
                <span className="db-sr">{t('theme')}</span>
                <select value={mode} onChange={(e) => chooseMode(e.target.value as ThemeMode)} aria-label={t('theme')} data-testid="theme">
                    <option value="system">{t('themeSystem')}</option>
                    <option value="light">{t('themeLight')}</option>
                    <option value="dark">{t('themeDark')}</option>
                </select>
            </label>
        </div>
    );

    if (session.kind === 'checking' || (session.kind === 'signedIn' && !environment)) return <main className="db-center">{t('loading')}</main>;
    if (session.kind === 'signedOut') {
        return (
            <DashProvider value={dash}>
                <SignIn reason={session.reason} onSignedIn={check} prefs={prefs} />
            </DashProvider>
        );
    }

    const { Page } = pages[page];
    const signOut = async () => {
        await api.signOut().catch(() => undefined);
        setSession({ kind: 'signedOut' });
    };
    return (
        <DashProvider value={dash}>
            <div className="db-shell">
                <header className="db-header">
                    <button type="button" className="db-button db-ghost db-menu-button" aria-expanded={menuOpen} onClick={() => setMenuOpen((o) => !o)}>
                        {t('menu')}
                    </button>
                    <a className="db-brand" href="#/integrations">
                        {t('appName')} <span className="db-muted">{t('dashboard')}</span>
                    </a>
                    <label className="db-env">
                        <span>{t('environment')}</span>
                        <select value={environment} onChange={(e) => setEnvironment(e.target.value)} data-testid="environment">
                            {session.environments.map((e) => (
                                <option key={e} value={e}>
                                    {e}
                                </option>
                            ))}
                        </select>
                    </label>
                    {prefs}
                    <button type="button" className="db-button" onClick={signOut} data-testid="sign-out">
                        {t('signOut')}
                    </button>
                </header>
                <nav className={`db-nav${menuOpen ? ' db-nav-open' : ''}`} aria-label={t('dashboard')}>
                    {(Object.keys(pages) as PageName[]).map((name) => (
                        <a key={name} href={`#/${name}`} aria-current={name === page ? 'page' : undefined} data-testid={`nav-${name}`}>
                            {t(pages[name].label)}
                        </a>
                    ))}
                </nav>
                <main className="db-main">
                    {/* A new environment is a new page: nothing of the previous one's lists stays on screen. */}
                    <Page key={`${page}:${environment}`} />
                </main>
                {notice ? (
                    <div className={`db-notice db-notice-${notice.kind}`} role="status">
                        {notice.text}
                    </div>
                ) : null}
            </div>
        </DashProvider>
    );
}
