import type { Action, FieldChange, Plan } from './plan.ts';

const show = (v: unknown): string => (v === null || v === undefined ? '(none)' : JSON.stringify(v));

function change(c: FieldChange): string {
    if ('secret' in c) return `${c.field}: (secret ${c.change})`;
    return 'from' in c ? `${c.field}: ${show(c.from)} → ${show(c.to)}` : `${c.field}: ${show(c.to)}`;
}

function head(a: Action): string {
    switch (a.kind) {
        case 'create-environment':
            return '+ environment (create)';
        case 'create-integration':
            return `+ integration ${a.key} (create, ${a.provider})`;
        case 'update-integration':
            return `~ integration ${a.key} (update)`;
        case 'replace-integration':
            return `! integration ${a.key} (replace: delete with its connections, then create)`;
        case 'delete-integration':
            return `- integration ${a.key} (delete, with its connections)`;
        case 'set-variables':
            return '~ script variables';
        case 'update-webhooks':
            return '~ webhook settings';
    }
}

/** The plan as lines for a terminal: what changes, per environment; secret values never appear, only their fate. */
export function formatPlan(plan: Plan, opts: { pruneHint?: string } = {}): string[] {
    const lines: string[] = [];
    let env: string | undefined;
    for (const a of plan.actions) {
        if (a.environment !== env) {
            env = a.environment;
            lines.push(`environment ${env}:`);
        }
        lines.push(`  ${head(a)}`);
        if ('changes' in a) for (const c of a.changes) lines.push(`      ${change(c)}`);
    }
    if (!plan.actions.length) lines.push('No changes: the broker matches the file.');
    if (plan.unmanaged.length) {
        lines.push(`Not in the file, kept${opts.pruneHint ? ` (${opts.pruneHint})` : ''}:`);
        for (const u of plan.unmanaged) lines.push(`  ${u.environment}: integration ${u.key}`);
    }
    return lines;
}
