// Small pieces the pages share: status badges, JSON details, pagers, page headers, a dialog, select filters and data tables.
import { useEffect, useRef, useState, type Key, type ReactNode } from 'react';
import { errorText, useDash } from './context.tsx';

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
    const ref = useRef<HTMLHeadingElement>(null);
    // Focus moves to each page's heading so screen readers announce the new page.
    useEffect(() => ref.current?.focus(), []);
    return (
        <div className="db-page-header">
            <h1 ref={ref} tabIndex={-1}>
                {title}
            </h1>
            {children ? <div className="db-actions">{children}</div> : null}
        </div>
    );
}

const tone: Record<string, string> = {
    active: 'ok',
    routed: 'ok',
    answered: 'info',
    refused: 'bad',
    delivered: 'ok',
    SUCCESS: 'ok',
    success: 'ok',
    STARTED: 'ok',
    RUNNING: 'info',
    QUEUED: 'info',
    pending: 'info',
    PAUSED: 'muted',
    STOPPED: 'muted',
    expired: 'warn',
    failed: 'warn',
    revoked: 'bad',
    dead: 'bad',
    ERROR: 'bad',
    failure: 'bad'
};

export function Badge({ value, label }: { value: string; label?: string }) {
    return <span className={`db-badge db-badge-${tone[value] ?? 'muted'}`}>{label ?? value}</span>;
}

export function Json({ value, summary }: { value: unknown; summary: string }) {
    if (value === null || value === undefined) return <span className="db-muted">—</span>;
    return (
        <details className="db-json">
            <summary>{summary}</summary>
            <pre>{JSON.stringify(value, null, 2)}</pre>
        </details>
    );
}

/** Previous / next over a server-paged list: `next` is the server's cursor or page, null on the last page. */
export function Pager({ hasPrevious, onPrevious, hasNext, onNext }: { hasPrevious: boolean; onPrevious: () => void; hasNext: boolean; onNext: () => void }) {
    const { t } = useDash();
    return (
        <nav className="db-pager" aria-label="pagination">
            <button type="button" className="db-button" disabled={!hasPrevious} onClick={onPrevious}>
                {t('previous')}
            </button>
            <button type="button" className="db-button" disabled={!hasNext} onClick={onNext} data-testid="next-page">
                {t('next')}
            </button>
        </nav>
    );
}

/** Cursor paging: keeps the cursors of the pages before, so Previous works with forward-only cursors. */
export function useCursorStack<C>(): { cursor: C | undefined; push: (c: C) => void; pop: () => void; reset: () => void; depth: number } {
    const stack = useRef<Array<C | undefined>>([undefined]);
    const { forceRender, version } = useForce();
    void version;
    return {
        cursor: stack.current.at(-1),
        depth: stack.current.length,
        push(c) {
            stack.current = [...stack.current, c];
            forceRender();
        },
        pop() {
            if (stack.current.length > 1) stack.current = stack.current.slice(0, -1);
            forceRender();
        },
        reset() {
            stack.current = [undefined];
            forceRender();
        }
    };
}

function useForce(): { forceRender: () => void; version: number } {
    const [version, setVersion] = useState(0);
    return { forceRender: () => setVersion((v) => v + 1), version };
}

export function Loading() {
    const { t } = useDash();
    return (
        <p className="db-muted" role="status">
            {t('loading')}
        </p>
    );
}

export function ErrorLine({ text }: { text: string }) {
    return (
        <p className="db-error" role="alert">
            {text}
        </p>
    );
}

export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
    const { t } = useDash();
    useEffect(() => {
        const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
        window.addEventListener('keydown', onKey);
        return () => window.removeEventListener('keydown', onKey);
    }, [onClose]);
    return (
        <div className="db-backdrop">
            <div className="db-dialog" role="dialog" aria-modal="true" aria-label={title}>
                <div className="db-dialog-head">
                    <h2>{title}</h2>
                    <button type="button" className="db-button db-ghost" onClick={onClose}>
                        {t('close')}
                    </button>
                </div>
                <div className="db-dialog-body">{children}</div>
            </div>
        </div>
    );
}

/** A size in bytes, as people read it: `812 B`, `3.4 kB`; `—` when unknown. */
export function bytes(n: number | null | undefined): string {
    if (n === null || n === undefined) return '—';
    if (n < 1000) return `${n} B`;
    if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
    return `${(n / 1_000_000).toFixed(1)} MB`;
}

/** A paged list's loading, error and empty states, shown where its table goes (the table renders itself when there are rows). */
export function ListStatus({ list }: { list: { loading: boolean; error: unknown; value: { data: unknown[] } | undefined } }) {
    const { t } = useDash();
    return (
        <>
            {list.loading && !list.value ? <Loading /> : null}
            {list.error ? <ErrorLine text={errorText(t, list.error)} /> : null}
            {list.value && list.value.data.length === 0 ? <p className="db-muted">{t('empty')}</p> : null}
        </>
    );
}

/** A labelled select: the first option is the blank value (`all` by default), then `options`, each a value shown as is or a value with its label. */
export function SelectFilter({
    label,
    value,
    onChange,
    options,
    blank,
    required,
    testId
}: {
    label: ReactNode;
    value: string;
    onChange: (value: string) => void;
    options: ReadonlyArray<string | { value: string; label: string }>;
    /** The blank option's text; `t('all')` when left out. */
    blank?: string;
    required?: boolean;
    testId?: string;
}) {
    const { t } = useDash();
    return (
        <label className="db-field">
            <span>{label}</span>
            <select value={value} onChange={(e) => onChange(e.target.value)} required={required} data-testid={testId}>
                <option value="">{blank ?? t('all')}</option>
                {options.map((o) => {
                    const { value: v, label: text } = typeof o === 'string' ? { value: o, label: o } : o;
                    return (
                        <option key={v} value={v}>
                            {text}
                        </option>
                    );
                })}
            </select>
        </label>
    );
}

/** One column of a DataTable: its header, the cell's `data-label` (the header on narrow screens) and what a row shows; or the row's actions. */
export type Column<R> = { label: string; head?: ReactNode; testId?: string; cell: (row: R) => ReactNode } | { actions: (row: R) => ReactNode };

/** Columns are told apart by their label (unique within a table), the actions column by its role. */
function columnKey<R>(c: Column<R>): string {
    return 'actions' in c ? 'actions' : c.label;
}

/** A `db-table` of rows, nothing when there are none (the list's status says why). */
export function DataTable<R>({
    testId,
    columns,
    rows,
    rowKey,
    rowTestId
}: {
    testId: string;
    columns: ReadonlyArray<Column<R>>;
    rows: readonly R[];
    rowKey: (row: R) => Key;
    rowTestId?: (row: R) => string;
}) {
    if (rows.length === 0) return null;
    return (
        <table className="db-table" data-testid={testId}>
            <thead>
                <tr>{columns.map((c) => ('actions' in c ? <th key={columnKey(c)} /> : <th key={columnKey(c)}>{c.head ?? c.label}</th>))}</tr>
            </thead>
            <tbody>
                {rows.map((row) => (
                    <tr key={rowKey(row)} data-testid={rowTestId?.(row)}>
                        {columns.map((c) =>
                            'actions' in c ? (
                                <td key={columnKey(c)} className="db-actions-cell">
                                    <div className="db-row-actions">{c.actions(row)}</div>
                                </td>
                            ) : (
                                <td key={columnKey(c)} data-label={c.label} data-testid={c.testId}>
                                    {c.cell(row)}
                                </td>
                            )
                        )}
                    </tr>
                ))}
            </tbody>
        </table>
    );
}

/** A server-paged list's status (loading, error, empty) and its rows as a DataTable. */
export function ListTable<R>({
    list,
    ...table
}: { list: { loading: boolean; error: unknown; value: { data: R[] } | undefined } } & Omit<Parameters<typeof DataTable<R>>[0], 'rows'>) {
    return (
        <>
            <ListStatus list={list} />
            <DataTable rows={list.value?.data ?? []} {...table} />
        </>
    );
}

/** Previous / next over a cursor-paged list, `next` being the server's next cursor (none on the last page). */
export function CursorPager<C>({ cursors, next }: { cursors: { depth: number; pop: () => void; push: (c: C) => void }; next: C | null | undefined }) {
    return (
        <Pager
            hasPrevious={cursors.depth > 1}
            onPrevious={cursors.pop}
            hasNext={next != null}
            onNext={() => {
                if (next) cursors.push(next);
            }}
        />
    );
}

/** A filter's change handler: take the new value, then go back to the first page. */
export function refilter(set: (value: string) => void, firstPage: () => void): (value: string) => void {
    return (value) => {
        set(value);
        firstPage();
    };
}

/** A cell's value over a muted second line: `<code>conn-1</code>` over its integration, say. */
export function Stacked({ main, sub }: { main: ReactNode; sub: ReactNode }) {
    return (
        <>
            {main}
            <br />
            <span className="db-muted db-small">{sub}</span>
        </>
    );
}
