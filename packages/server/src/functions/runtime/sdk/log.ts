/** `nango.log` / `nango.setLogger` with the environment threshold (docs/scripts-compatibility.md, "Logging"). */
import type { ScriptLogEntry } from '../types.ts';
import { guard, type SdkContext } from './context.ts';

type Level = ScriptLogEntry['level'];
type Threshold = Level | 'off';

const RANK: Record<Threshold, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };
const ALIASES: Record<string, Level> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', http: 'info', verbose: 'debug', silly: 'debug' };
/** The persist log route accepts 100 KB; keep the message just under it. */
const MAX_MESSAGE_CHARS = 99_000;

export class LogApi {
    private readonly ctx: SdkContext;
    private threshold: Threshold;

    constructor(ctx: SdkContext) {
        this.ctx = ctx;
        this.threshold = parseThreshold(ctx.props.logLevel) ?? 'warn';
    }

    /** `log(message, payload?, {level}?)` or `log(message, {level})`: the last argument carrying `level` is the options. */
    async log(...args: unknown[]): Promise<void> {
        guard(this.ctx);
        const [message, ...rest] = args;
        let level: Level = 'info';
        const last = rest[rest.length - 1];
        if (isObject(last) && typeof last['level'] === 'string' && Object.keys(last).length === 1) {
            level = ALIASES[last['level']] ?? 'info';
            rest.pop();
        }
        if (RANK[level] < RANK[this.threshold]) return;
        const entry: ScriptLogEntry = { level, message: stringify(message).slice(0, MAX_MESSAGE_CHARS) };
        if (rest.length > 0 && rest[0] !== undefined) entry.meta = indexArrays(rest[0]);
        await this.ctx.host.log(entry);
    }

    /** Changes the threshold; a logger turned `off` (e.g. quota exhausted) stays off. */
    setLogger(opts: { level?: string }): void {
        guard(this.ctx);
        if (this.threshold === 'off') return;
        const next = parseThreshold(opts?.level);
        if (next) this.threshold = next;
    }

    /** Used by zodValidateInput, which must log whatever the threshold says. */
    enabled(level: Level): boolean {
        return RANK[level] >= RANK[this.threshold];
    }
}

function parseThreshold(v: unknown): Threshold | undefined {
    return typeof v === 'string' && v in RANK ? (v as Threshold) : undefined;
}

function stringify(v: unknown): string {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return `${v.name}: ${v.message}`;
    try {
        return JSON.stringify(v) ?? String(v);
    } catch {
        return String(v);
    }
}

/** Arrays in a payload become index-keyed objects (the activity log stores `meta` as an object). */
function indexArrays(v: unknown): unknown {
    if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
    if (v instanceof Error) return { name: v.name, message: v.message };
    try {
        return JSON.parse(JSON.stringify(v)) as unknown;
    } catch {
        return String(v);
    }
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
