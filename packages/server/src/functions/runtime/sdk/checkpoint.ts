/** `getCheckpoint` / `saveCheckpoint` / `clearCheckpoint` with Nango's shape rules (docs/scripts-compatibility.md, "Checkpoints"). */
import { guard, type SdkContext } from './context.ts';
import { SdkError } from './errors.ts';

type Checkpoint = Record<string, string | number | boolean>;

const MAX_FIELDS = 16;
const MAX_STRING = 4_000;
const MAX_KEY = 255;

export class CheckpointApi {
    private readonly ctx: SdkContext;

    constructor(ctx: SdkContext) {
        this.ctx = ctx;
    }

    async getCheckpoint(): Promise<Checkpoint | null> {
        guard(this.ctx);
        return this.ctx.host.getCheckpoint();
    }

    async saveCheckpoint(checkpoint: unknown): Promise<void> {
        guard(this.ctx);
        await this.ctx.host.saveCheckpoint(validateCheckpoint(checkpoint));
    }

    async clearCheckpoint(): Promise<void> {
        guard(this.ctx);
        await this.ctx.host.clearCheckpoint();
    }
}

/** Flat object of string/number/boolean values, at most 16 fields, strings at most 4,000 characters. */
export function validateCheckpoint(value: unknown): Checkpoint {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('must be a plain object');
    const entries = Object.entries(value);
    if (entries.length > MAX_FIELDS) throw invalid(`has ${entries.length} fields; at most ${MAX_FIELDS} are allowed`);
    const out: Checkpoint = {};
    for (const [key, v] of entries) {
        if (key.length > MAX_KEY) throw invalid(`field name '${key.slice(0, 40)}…' is longer than ${MAX_KEY} characters`);
        if (typeof v === 'string') {
            if (v.length > MAX_STRING) throw invalid(`field '${key}' is ${v.length} characters long; at most ${MAX_STRING} are allowed`);
        } else if (typeof v === 'number') {
            if (!Number.isFinite(v)) throw invalid(`field '${key}' is not a finite number`);
        } else if (typeof v !== 'boolean') {
            throw invalid(`field '${key}' must be a string, number or boolean (got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v})`);
        }
        out[key] = v;
    }
    return out;
}

function invalid(detail: string): SdkError {
    return new SdkError('invalid_checkpoint', `Invalid checkpoint: ${detail}`);
}
