import type { KubeObject, ResourceType } from './types.ts';

/** Evaluates the simple JSONPath of a printer column (`.status.conditions[0].type` style, or `.a.b`). */
function at(o: unknown, path: string): unknown {
    let v: unknown = o;
    for (const part of path.replace(/^\./, '').split('.')) {
        const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(part);
        if (!m) return undefined;
        v = (v as Record<string, unknown> | undefined)?.[m[1]!];
        if (m[2] !== undefined) v = (v as unknown[] | undefined)?.[Number(m[2])];
    }
    return v;
}

function age(ts: string | undefined): string {
    if (!ts) return '<unknown>';
    const s = Math.max(0, Math.round((Date.now() - Date.parse(ts)) / 1000));
    return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
}

/** The meta.k8s.io/v1 Table the server answers `kubectl get` with: Name, the CRD's printer columns (or Age). */
export function table(t: ResourceType, items: KubeObject[], rv: string): Record<string, unknown> {
    const custom = t.printerColumns.length > 0;
    const columns = [
        { name: 'Name', type: 'string', format: 'name', description: 'Name', priority: 0 },
        ...(custom
            ? t.printerColumns.map((c) => ({ name: c.name, type: c.type, format: '', description: c.name, priority: 0 }))
            : [{ name: 'Age', type: 'date', format: '', description: 'Age', priority: 0 }])
    ];
    const rows = items.map((o) => ({
        cells: [
            o.metadata.name,
            ...(custom
                ? t.printerColumns.map((c) => (c.type === 'date' ? age(at(o, c.jsonPath) as string | undefined) : (at(o, c.jsonPath) ?? null)))
                : [age(o.metadata.creationTimestamp)])
        ],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }
    }));
    return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: rv }, columnDefinitions: columns, rows };
}
