// Records: what a sync stored for one connection and model, a page at a time with the API's cursor.
import { useState, type FormEvent } from 'react';
import type { Integration } from '../api.ts';
import { errorText, useDash, useLoad } from '../context.tsx';
import { formatTime } from '../i18n.ts';
import { CursorPager, DataTable, ErrorLine, Json, Loading, PageHeader, SelectFilter, useCursorStack } from '../ui.tsx';

/** A few of the record's own fields, to tell rows apart without opening each. */
function summary(r: Record<string, unknown>): string {
    return Object.entries(r)
        .filter(([k, v]) => k !== 'id' && !k.startsWith('_') && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
        .slice(0, 3)
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join(' · ');
}

interface RecordsPage {
    records: Array<Record<string, unknown> & { id: string | number; _nango_metadata?: { last_action?: string; last_modified_at?: string } }>;
    next_cursor: string | null;
}

export function RecordsPage() {
    const { api, t, lang } = useDash();
    const integrations = useLoad(() => api.call<{ data: Integration[] }>('GET', '/integrations'), []);
    const [form, setForm] = useState({ integration: '', connection: '', model: '' });
    const [query, setQuery] = useState<typeof form | null>(null);
    const cursors = useCursorStack<string>();
    const page = useLoad(
        () =>
            query
                ? api.call<RecordsPage>('GET', '/records', {
                      query: { model: query.model, cursor: cursors.cursor, limit: 25 },
                      headers: { 'provider-config-key': query.integration, 'connection-id': query.connection }
                  })
                : Promise.resolve(undefined),
        [query, cursors.cursor]
    );
    const submit = (e: FormEvent) => {
        e.preventDefault();
        cursors.reset();
        setQuery({ ...form });
    };
    return (
        <section>
            <PageHeader title={t('navRecords')} />
            <p className="db-muted">{t('recordsIntro')}</p>
            <form className="db-filters" onSubmit={submit}>
                <SelectFilter
                    label={t('integration')}
                    value={form.integration}
                    onChange={(integration) => setForm({ ...form, integration })}
                    options={(integrations.value?.data ?? []).map((i) => i.unique_key)}
                    blank=""
                    required
                />
                <label className="db-field">
                    <span>{t('connectionId')}</span>
                    <input value={form.connection} onChange={(e) => setForm({ ...form, connection: e.target.value })} required />
                </label>
                <label className="db-field">
                    <span>{t('model')}</span>
                    <input value={form.model} onChange={(e) => setForm({ ...form, model: e.target.value })} required />
                </label>
                <div className="db-field db-field-button">
                    <button type="submit" className="db-button db-primary">
                        {t('show')}
                    </button>
                </div>
            </form>
            {page.loading && query ? <Loading /> : null}
            {page.error ? <ErrorLine text={errorText(t, page.error)} /> : null}
            {page.value && page.value.records.length === 0 ? <p className="db-muted">{t('empty')}</p> : null}
            <DataTable
                testId="records"
                rows={page.value?.records ?? []}
                rowKey={(r) => String(r.id)}
                columns={[
                    { label: 'id', cell: (r) => <code>{String(r.id)}</code> },
                    { label: t('detail'), cell: (r) => summary(r) },
                    { label: t('kind'), cell: (r) => r._nango_metadata?.last_action ?? '' },
                    { label: t('when'), cell: (r) => formatTime(lang, r._nango_metadata?.last_modified_at) },
                    { label: t('payload'), cell: (r) => <Json value={r} summary={t('details')} /> }
                ]}
            />
            {query ? <CursorPager cursors={cursors} next={page.value?.next_cursor} /> : null}
        </section>
    );
}
