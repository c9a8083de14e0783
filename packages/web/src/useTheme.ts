import { useEffect, useState } from 'react';
import { applyTheme, resolveTheme, type ThemeSettings } from './theme.ts';

/** Applies the theme to <html> and follows the system setting when the mode is 'system'. */
export function useTheme(settings: ThemeSettings): void {
    const [prefersDark, setPrefersDark] = useState(() => window.matchMedia('(prefers-color-scheme: dark)').matches);
    useEffect(() => {
        const mq = window.matchMedia('(prefers-color-scheme: dark)');
        const on = (e: MediaQueryListEvent) => setPrefersDark(e.matches);
        mq.addEventListener('change', on);
        return () => mq.removeEventListener('change', on);
    }, []);
    useEffect(() => applyTheme(resolveTheme(settings, prefersDark)), [settings, prefersDark]);
}
