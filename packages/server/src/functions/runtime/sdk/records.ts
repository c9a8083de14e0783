/** Record writes and reads for syncs and webhook runs (docs/scripts-compatibility.md, "Records"). */
import { guard, type SdkContext } from './context.ts';
import { SdkError } from './errors.ts';

const WRITE_CHUNK = 1_000;
const READ_CHUNK = 100;

type RecordObj = Record<string, unknown>;

export class RecordsApi {
    private readonly ctx: SdkContext;

    constructor(ctx: SdkContext) {
        this.ctx = ctx;
    }

    batchSave(records: unknown, model: string): Promise<boolean> {
        return this.write('batchSave', records, model);
    }

    batchUpdate(records: unknown, model: string): Promise<boolean> {
        return this.write('batchUpdate', records, model);
    }

    batchDelete(records: unknown, model: string): Promise<boolean> {
        return this.write('batchDelete', records, model);
    }

    /** Returns a Map keyed by the ids as the script passed them (string or number). */
    async getRecordsByIds(ids: Array<string | number>, model: string): Promise<Map<string | number, RecordObj>> {
        this.check('getRecordsByIds', model);
        if (!Array.isArray(ids)) throw new SdkError('invalid_argument', 'getRecordsByIds expects an array of ids');
        const original = new Map(ids.map((id) => [String(id), id] as const));
        const out = new Map<string | number, RecordObj>();
        const unique = [...original.keys()];
        for (let i = 0; i < unique.length; i += READ_CHUNK) {
            guard(this.ctx);
            const found = await this.ctx.host.getRecordsByIds(model, unique.slice(i, i + READ_CHUNK));
            for (const rec of found) {
                const key = String(rec['id']);
                out.set(original.get(key) ?? key, rec);
            }
        }
        return out;
    }

    /** Async generator over every stored record of the model (with `_nango_metadata`), page by page. */
    async *listRecords(model: string, opts?: { cursor?: string | null }): AsyncGenerator<RecordObj, void, undefined> {
        this.check('listRecords', model);
        let cursor: string | null = opts?.cursor ?? null;
        for (;;) {
            guard(this.ctx);
            const page = await this.ctx.host.listRecords(model, cursor);
            for (const rec of page.records) yield rec;
            if (!page.next_cursor || page.next_cursor === cursor) return;
            cursor = page.next_cursor;
        }
    }

    async trackDeletesStart(model: string): Promise<void> {
        this.check('trackDeletesStart', model);
        await this.ctx.host.trackDeletesStart(model);
    }

    async trackDeletesEnd(model: string): Promise<{ deletedKeys: string[] }> {
        this.check('trackDeletesEnd', model);
        return this.ctx.host.trackDeletesEnd(model);
    }

    /** Deprecated in Nango: same as trackDeletesEnd with the current job as the window start. */
    async deleteRecordsFromPreviousExecutions(model: string): Promise<{ deletedKeys: string[] }> {
        this.check('deleteRecordsFromPreviousExecutions', model);
        await this.ctx.host.trackDeletesStart(model);
        return this.ctx.host.trackDeletesEnd(model);
    }

    private async write(method: 'batchSave' | 'batchUpdate' | 'batchDelete', records: unknown, model: string): Promise<boolean> {
        this.check(method, model);
        if (!Array.isArray(records)) throw new SdkError('invalid_sync_record', `${method} expects an array of records`);
        const clean = records.map((r, i) => cleanRecord(r, i, method));
        for (let i = 0; i < clean.length; i += WRITE_CHUNK) {
            guard(this.ctx);
            await this.ctx.host[method](model, clean.slice(i, i + WRITE_CHUNK));
        }
        return true;
    }

    private check(method: string, model: string): void {
        guard(this.ctx);
        if (this.ctx.kind !== 'sync' && this.ctx.kind !== 'webhook') {
            throw new SdkError('invalid_script_call', `nango.${method} is only available to syncs and webhook runs`);
        }
        const models = this.ctx.props.models ?? [];
        if (typeof model !== 'string' || !models.includes(model)) {
            throw new SdkError(
                'invalid_model',
                `nango.${method}: model '${String(model)}' is not declared by this sync (declared: ${models.join(', ') || 'none'})`
            );
        }
    }
}

/** Strips `_nango_metadata` and checks the id the records store requires (string of 1–255 chars, or number). */
function cleanRecord(r: unknown, index: number, method: string): RecordObj {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new SdkError('invalid_sync_record', `${method}: record ${index} is not an object`);
    const { _nango_metadata: _dropped, ...rest } = r as RecordObj;
    const id = rest['id'];
    const okId = (typeof id === 'string' && id.length > 0 && id.length <= 255) || (typeof id === 'number' && Number.isFinite(id));
    if (!okId) throw new SdkError('invalid_sync_record', `${method}: record ${index} needs an \`id\` (string of 1–255 characters or number)`);
    return rest;
}
