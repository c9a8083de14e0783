// Provider logos for the Connect UI and the dashboard (`logo_url`, /images/template-logos/<name>.svg).
// A brand icon from Simple Icons (CC0-1.0; generated into logos.json by scripts/build-logos.ts) where one is
// published, else a generated monogram. Both are drawn here as a 64×64 tile, so every provider has a logo.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ProviderDefinition } from './schema.ts';

const logoSchema = z.strictObject({
    slug: z.string().regex(/^[a-z0-9]+$/),
    title: z.string().min(1),
    hex: z.string().regex(/^[0-9A-F]{6}$/),
    // SVG path data only: letters, digits, separators. Nothing that could close the attribute.
    path: z.string().regex(/^[MmLlHhVvCcSsQqTtAaZz0-9.,\s+-]+$/)
});
export type Logo = z.infer<typeof logoSchema>;

const LOGOS: ReadonlyMap<string, Logo> = new Map(
    Object.entries(z.record(z.string(), logoSchema).parse(JSON.parse(readFileSync(new URL('./logos.json', import.meta.url), 'utf8'))))
);

/** The brand icon of a provider, if Simple Icons publishes one under CC0. */
export function brandLogo(name: string): Logo | undefined {
    return LOGOS.get(name);
}

// Relative luminance (WCAG 2.x) decides whether the glyph on the brand colour is white or black.
function luminance(hex: string): number {
    const channel = (i: number) => {
        const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The SVG served for a provider: its brand icon on its brand colour, or a monogram on a colour derived from the name. */
export function logoSvg(name: string, def: ProviderDefinition): string {
    const logo = LOGOS.get(name);
    if (logo) {
        const ink = luminance(logo.hex) > 0.5 ? '#000' : '#fff';
        return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img"><title>${escapeXml(logo.title)}</title><rect width="64" height="64" rx="14" fill="#${logo.hex}"/><path transform="translate(14 14) scale(1.5)" fill="${ink}" d="${logo.path}"/></svg>`;
    }
    const letters =
        def.display_name
            .replace(/[^A-Za-z0-9 ]/g, '')
            .split(/\s+/)
            .map((w) => w[0] ?? '')
            .join('')
            .slice(0, 2)
            .toUpperCase() || '?';
    let hue = 0;
    for (const ch of name) hue = (hue * 31 + ch.charCodeAt(0)) % 360;
    return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="hsl(${hue} 55% 45%)"/><text x="32" y="41" font-family="system-ui,sans-serif" font-size="24" font-weight="600" text-anchor="middle" fill="#fff">${letters}</text></svg>`;
}
