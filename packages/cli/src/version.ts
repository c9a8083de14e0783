import { readFileSync } from 'node:fs';

/** The CLI's own package version, sent as the base of `sdkVersion`. */
export const CLI_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
