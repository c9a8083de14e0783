// Theme: light/dark/system mode and a primary colour, applied as CSS custom properties on <html>. Values are set
// through the CSSOM (style.setProperty), which a CSP without 'unsafe-inline' allows.
export type ThemeMode = 'light' | 'dark' | 'system';

export interface ThemeSettings {
    mode: ThemeMode;
    primary: { light: string; dark: string };
}

export interface Theme {
    scheme: 'light' | 'dark';
    vars: Record<string, string>;
}

export const defaultSettings: ThemeSettings = { mode: 'system', primary: { light: '#2563eb', dark: '#60a5fa' } };

const palettes = {
    light: {
        bg: '#ffffff',
        surface: '#f6f7f9',
        text: '#111827',
        muted: '#4b5563',
        border: '#d1d5db',
        danger: '#b91c1c',
        success: '#15803d',
        backdrop: 'rgba(17, 24, 39, 0.45)'
    },
    dark: {
        bg: '#111827',
        surface: '#1f2937',
        text: '#f9fafb',
        muted: '#9ca3af',
        border: '#374151',
        danger: '#f87171',
        success: '#4ade80',
        backdrop: 'rgba(0, 0, 0, 0.6)'
    }
};

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;

/** Accepts #rgb / #rrggbb only: the value ends up in CSS. */
export function safeColour(value: unknown): string | undefined {
    return typeof value === 'string' && HEX.test(value.trim()) ? value.trim() : undefined;
}

export function parseMode(value: string | null | undefined): ThemeMode | undefined {
    return value === 'light' || value === 'dark' || value === 'system' ? value : undefined;
}

function luminance(hex: string): number {
    const full = hex.length === 4 ? `#${hex[1]}${hex[1]}${hex[2]}${hex[2]}${hex[3]}${hex[3]}` : hex;
    const [r, g, b] = [1, 3, 5].map((i) => {
        const c = parseInt(full.slice(i, i + 2), 16) / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Text colour on the primary colour: whichever of black/white contrasts more (WCAG relative luminance). */
export function onColour(hex: string): string {
    const l = luminance(hex);
    return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#ffffff' : '#111827';
}

export function resolveTheme(settings: ThemeSettings, prefersDark: boolean): Theme {
    const scheme = settings.mode === 'system' ? (prefersDark ? 'dark' : 'light') : settings.mode;
    const p = palettes[scheme];
    const primary = settings.primary[scheme];
    return {
        scheme,
        vars: {
            '--sb-bg': p.bg,
            '--sb-surface': p.surface,
            '--sb-text': p.text,
            '--sb-muted': p.muted,
            '--sb-border': p.border,
            '--sb-danger': p.danger,
            '--sb-success': p.success,
            '--sb-backdrop': p.backdrop,
            '--sb-primary': primary,
            '--sb-on-primary': onColour(primary)
        }
    };
}

export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
    for (const [name, value] of Object.entries(theme.vars)) root.style.setProperty(name, value);
    root.style.setProperty('color-scheme', theme.scheme);
    root.dataset['theme'] = theme.scheme;
}
