import { parseFrequency as parseOnServer } from '@switchboard/server/frequency';
import { CliError } from './errors.ts';

/** Milliseconds for a frequency string, or a CliError naming `where`: the server's own grammar and bounds, so compile and deploy agree. */
export function parseFrequency(value: string, where: string): number {
    const parsed = parseOnServer(value);
    if (!parsed.ok) throw new CliError('INVALID_FREQUENCY', `${where}: ${parsed.reason}`);
    return parsed.seconds * 1000;
}
