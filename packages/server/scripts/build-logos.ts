// Regenerates src/providers/logos.json, the provider logos the server serves at /images/template-logos/<name>.svg.
//
//   node scripts/build-logos.ts          (from packages/server; simple-icons is a devDependency)
//
// Source: Simple Icons (https://simpleicons.org, npm `simple-icons`, CC0-1.0). Only icons Simple Icons publishes
// without a license of their own (i.e. under its CC0 dedication) are taken; the rest keep the generated monogram.
// The logos are trademarks of their owners, used to identify the service an end user connects to.
// test/catalogue.test.ts fails when this file's output and the committed logos.json differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogue } from '../src/providers/catalogue.ts';

export interface Logo {
    /** Simple Icons slug. */
    slug: string;
    title: string;
    /** Brand colour, six hex digits. */
    hex: string;
    /** SVG path data on a 24×24 view box. */
    path: string;
}

// Where the provider key is not the Simple Icons slug (nor the slug with dashes removed, nor its first word).
const SLUG_OVERRIDES: Record<string, string> = {
    'cal-com-v2': 'caldotcom',
    'google-mail': 'gmail',
    'google-sheet': 'googlesheets',
    'hacker-news': 'ycombinator',
    mistral: 'mistralai',
    'twitter-v2': 'x'
};

interface IconData {
    title: string;
    slug?: string;
    hex: string;
    license?: { type: string };
}

const require = createRequire(import.meta.url);
const packageDir = dirname(require.resolve('simple-icons'));

/** Simple Icons' own slug rule (sdk.mjs titleToSlug), so lookups agree with its file names. */
async function slugOf(icon: IconData): Promise<string> {
    const sdk = (await import('simple-icons/sdk')) as { getIconSlug(icon: IconData): string };
    return sdk.getIconSlug(icon);
}

export async function buildLogos(): Promise<Record<string, Logo>> {
    const data = JSON.parse(readFileSync(join(packageDir, 'data', 'simple-icons.json'), 'utf8')) as IconData[];
    const bySlug = new Map<string, IconData>();
    for (const icon of data) bySlug.set(await slugOf(icon), icon);
    const usable = (slug: string | undefined): slug is string => {
        const icon = slug === undefined ? undefined : bySlug.get(slug);
        return !!icon && (icon.license === undefined || icon.license.type === 'CC0-1.0');
    };
    const out: Record<string, Logo> = {};
    for (const [name] of loadCatalogue().list()) {
        const slug = [SLUG_OVERRIDES[name], name.replace(/-/g, ''), name.split('-')[0]].find(usable);
        if (!slug) continue;
        const icon = bySlug.get(slug)!;
        const svg = readFileSync(join(packageDir, 'icons', `${slug}.svg`), 'utf8');
        const path = /<path d="([^"]+)"/.exec(svg)?.[1];
        if (!path) throw new Error(`simple-icons/icons/${slug}.svg has no single path`);
        out[name] = { slug, title: icon.title, hex: icon.hex.toUpperCase(), path };
    }
    return out;
}

export const LOGOS_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'providers', 'logos.json');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const logos = await buildLogos();
    writeFileSync(LOGOS_FILE, `${JSON.stringify(logos, null, 4)}\n`);
    console.log(`${Object.keys(logos).length} logos written to ${LOGOS_FILE}`);
}
