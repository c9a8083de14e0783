// What every page uses: the API client, the translator, the language and the environment it acts on.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import type { DashboardApi } from './api.ts';
import { DashboardError } from './api.ts';
import type { DashLang, T } from './i18n.ts';

export interface Dash {
    api: DashboardApi;
    t: T;
    lang: DashLang;
    environment: string;
    notify: (message: string, kind?: 'ok' | 'error') => void;
}

const DashContext = createContext<Dash | null>(null);

export function DashProvider({ value, children }: { value: Dash; children: ReactNode }) {
    return <DashContext.Provider value={value}>{children}</DashContext.Provider>;
}

export function useDash(): Dash {
    const d = useContext(DashContext);
    if (!d) throw new Error('useDash outside DashProvider');
    return d;
}

/** The message a person reads for a failed call. */
export function errorText(t: T, err: unknown): string {
    if (err instanceof DashboardError) return t('errGeneric', { detail: `${err.message} (${err.code})` });
    return t('errGeneric', { detail: err instanceof Error ? err.message : String(err) });
}

/** Loads `load()` when its inputs change; `reload()` runs it again. Stale answers are dropped. */
export function useLoad<V>(load: () => Promise<V>, deps: unknown[]): { value: V | undefined; error: unknown; loading: boolean; reload: () => void } {
    const [state, setState] = useState<{ value: V | undefined; error: unknown; loading: boolean }>({ value: undefined, error: undefined, loading: true });
    const [tick, setTick] = useState(0);
    // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on
    useEffect(() => {
        let live = true;
        setState((s) => ({ ...s, loading: true }));
        load().then(
            (value) => live && setState({ value, error: undefined, loading: false }),
            (error: unknown) => live && setState({ value: undefined, error, loading: false })
        );
        return () => {
            live = false;
        };
    }, [...deps, tick]);
    const reload = useCallback(() => setTick((n) => n + 1), []);
    return { ...state, reload };
}
