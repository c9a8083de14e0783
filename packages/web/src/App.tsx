// The Connect UI: wait for the session token, load the session's integrations, let the person pick one and connect
// it, and tell the embedding app what happened (protocol.ts).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Api, type Provider, type Session } from './api.ts';
import { connect } from './connect.ts';
import { isFatal, isFormError, toUiError, type UiError } from './errors.ts';
import { flowOf } from './fields.ts';
import { pickLang, translator } from './i18n.ts';
import type { Item, Screen } from './model.ts';
import type { PageConfig } from './config.ts';
import type { ParentChannel } from './protocol.ts';
import { defaultSettings, safeColour, type ThemeSettings } from './theme.ts';
import { useTheme } from './useTheme.ts';
import { Frame, Spinner } from './ui.tsx';
import { ListScreen } from './screens/List.tsx';
import { IntegrationScreen, type Submission } from './screens/Integration.tsx';
import { ErrorScreen, PopupScreen, SuccessScreen } from './screens/Result.tsx';

function themeSettings(session: Session | undefined, override: PageConfig['theme']): ThemeSettings {
    const s = session?.connectUISettings;
    return {
        mode: override ?? s?.defaultTheme ?? defaultSettings.mode,
        primary: {
            light: safeColour(s?.theme?.light?.primary) ?? defaultSettings.primary.light,
            dark: safeColour(s?.theme?.dark?.primary) ?? defaultSettings.primary.dark
        }
    };
}

async function loadItems(api: Api, session: Session): Promise<Item[]> {
    const allowed = session.allowed_integrations;
    const integrations = (await api.integrations()).filter((i) => !allowed || allowed.length === 0 || allowed.includes(i.unique_key));
    const names = [...new Set(integrations.map((i) => i.provider))];
    const providers = new Map<string, Provider>();
    // A provider that cannot be read leaves its integration listed but not connectable, rather than hiding the list.
    const results = await Promise.allSettled(names.map((n) => api.provider(n)));
    results.forEach((r, i) => r.status === 'fulfilled' && providers.set(names[i]!, r.value));
    return integrations.map((integration) => ({ integration, provider: providers.get(integration.provider) }));
}

export function App({ page, channel }: { page: PageConfig; channel: ParentChannel }) {
    const lang = useMemo(() => pickLang(page.lang, navigator.languages ?? [navigator.language]), [page.lang]);
    const t = useMemo(() => translator(lang), [lang]);
    const [token, setToken] = useState<string | undefined>(page.urlToken);
    const [session, setSession] = useState<Session | undefined>();
    const [items, setItems] = useState<Item[]>([]);
    const [screen, setScreen] = useState<Screen>({ name: 'loading', waitingForToken: !page.urlToken });
    // Each connect attempt gets a number; a result for an attempt the person has left (Back) is ignored.
    const attempt = useRef(0);
    const [busy, setBusy] = useState(false);

    useTheme(useMemo(() => themeSettings(session, page.theme), [session, page.theme]));
    useEffect(() => {
        document.documentElement.lang = lang;
        document.title = t('title');
    }, [lang, t]);

    const reportError = useCallback(
        (error: UiError) => channel.send({ type: 'error', payload: { errorType: error.code, errorMessage: error.message } }),
        [channel]
    );

    const close = useCallback(() => {
        channel.send({ type: 'close' });
        if (!channel.framed) window.close();
    }, [channel]);

    // The app answers `ready` with the token (and may send a new one later with setSessionToken).
    useEffect(() => {
        const off = channel.onSessionToken(setToken);
        channel.send({ type: 'ready' });
        return off;
    }, [channel]);

    useEffect(() => {
        if (!token) return;
        let live = true;
        setScreen({ name: 'loading', waitingForToken: false });
        const api = new Api(page.apiURL, token, lang);
        (async () => {
            const s = await api.session();
            const list = await loadItems(api, s);
            if (!live) return;
            setSession(s);
            setItems(list);
            const only = list.length === 1 ? list[0] : undefined;
            setScreen(only && (s.isReconnecting || list.length === 1) ? { name: 'integration', item: only } : { name: 'list' });
        })().catch((err: unknown) => {
            if (!live) return;
            const error = toUiError(err);
            reportError(error);
            setScreen({ name: 'error', error });
        });
        return () => {
            live = false;
        };
    }, [token, page.apiURL, lang, reportError]);

    const run = useCallback(
        (item: Item, submission: Submission) => {
            if (!token || !item.provider) return;
            const flow = flowOf(item.provider.auth_mode);
            const mine = ++attempt.current;
            setScreen(flow === 'oauth' ? { name: 'popup', item } : { name: 'integration', item });
            setBusy(true);
            // Called synchronously from the click: the SDK opens its popup first thing, inside the user gesture.
            connect({
                apiURL: page.apiURL,
                token,
                websocketsPath: session?.websocketsPath,
                integrationKey: item.integration.unique_key,
                flow,
                credentials: submission.credentials,
                params: submission.params,
                detectClosedAuthWindow: page.detectClosedAuthWindow
            }).then(
                (result) => {
                    if (mine !== attempt.current) return;
                    setBusy(false);
                    channel.send({ type: 'connect', payload: result });
                    setScreen({ name: 'success', item, result });
                },
                (err: unknown) => {
                    if (mine !== attempt.current) return;
                    setBusy(false);
                    const error = toUiError(err);
                    reportError(error);
                    setScreen(isFormError(error.code) ? { name: 'integration', item, error } : { name: 'error', error, item });
                }
            );
        },
        [token, page.apiURL, page.detectClosedAuthWindow, session, channel, reportError]
    );

    // The OAuth callback page (opened by the SDK from this window) reports provider errors to its opener.
    useEffect(() => {
        const apiOrigin = new URL(page.apiURL).origin;
        const onMessage = (e: MessageEvent<unknown>) => {
            if (e.origin !== apiOrigin || typeof e.data !== 'object' || e.data === null) return;
            const data = e.data as { type?: unknown; payload?: { message?: unknown; errorType?: unknown } };
            if (data.type !== 'nango_oauth_callback_error' && data.type !== 'nango_oauth_callback_success') return;
            (e.source as Window | null)?.postMessage({ type: 'nango_oauth_callback_ack' }, apiOrigin);
            if (data.type !== 'nango_oauth_callback_error') return;
            setScreen((current) => {
                if (current.name !== 'popup') return current;
                attempt.current++;
                setBusy(false);
                const error = {
                    code: typeof data.payload?.errorType === 'string' ? data.payload.errorType : 'callback_err',
                    message: typeof data.payload?.message === 'string' ? data.payload.message : ''
                };
                reportError(error);
                return { name: 'error', error, item: current.item };
            });
        };
        window.addEventListener('message', onMessage);
        return () => window.removeEventListener('message', onMessage);
    }, [page.apiURL, reportError]);

    useEffect(() => {
        const onKey = (e: KeyboardEvent) => {
            if (e.key === 'Escape') close();
        };
        document.addEventListener('keydown', onKey);
        return () => document.removeEventListener('keydown', onKey);
    }, [close]);

    const single = items.length === 1;
    const reconnecting = session?.isReconnecting === true;
    const toList = single
        ? undefined
        : () => {
              attempt.current++;
              setBusy(false);
              setScreen({ name: 'list' });
          };

    let body;
    let onBack: (() => void) | undefined;
    switch (screen.name) {
        case 'loading':
            body = (
                <>
                    <h1 id="sb-heading" className="sb-visually-hidden">
                        {t('title')}
                    </h1>
                    <Spinner label={t(screen.waitingForToken ? 'waitingForSession' : 'loading')} />
                </>
            );
            break;
        case 'list':
            body = <ListScreen t={t} items={items} onPick={(item) => setScreen({ name: 'integration', item })} />;
            break;
        case 'integration':
            onBack = toList;
            body = (
                <IntegrationScreen
                    key={screen.item.integration.unique_key}
                    t={t}
                    item={screen.item}
                    session={session}
                    reconnecting={reconnecting}
                    error={screen.error}
                    busy={busy}
                    onSubmit={(s) => run(screen.item, s)}
                />
            );
            break;
        case 'popup': {
            const item = screen.item;
            const back = () => {
                attempt.current++;
                setBusy(false);
                setScreen({ name: 'integration', item });
            };
            onBack = back;
            body = <PopupScreen t={t} item={item} onCancel={back} />;
            break;
        }
        case 'success':
            body = <SuccessScreen t={t} item={screen.item} onDone={close} />;
            break;
        case 'error': {
            const { error, item } = screen;
            const retry = isFatal(error.code) || items.length === 0 ? undefined : () => setScreen(item ? { name: 'integration', item } : { name: 'list' });
            body = <ErrorScreen t={t} error={error} name={item?.integration.display_name ?? ''} onRetry={retry} onClose={close} />;
            break;
        }
    }
    return (
        <Frame t={t} onBack={onBack} onClose={close} labelledBy="sb-heading">
            {body}
        </Frame>
    );
}
