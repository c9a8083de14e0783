/** A metav1.Status failure, as the API server answers errors (https://kubernetes.io/docs/reference/using-api/api-concepts/). */
export class KubeError extends Error {
    readonly code: number;
    readonly reason: string;
    readonly details: Record<string, unknown> | undefined;
    constructor(code: number, reason: string, message: string, details?: Record<string, unknown>) {
        super(message);
        this.code = code;
        this.reason = reason;
        this.details = details;
    }

    toStatus(): Record<string, unknown> {
        return {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: this.message,
            reason: this.reason,
            ...(this.details ? { details: this.details } : {}),
            code: this.code
        };
    }
}

const what = (resource: string, group: string) => (group ? `${resource}.${group}` : resource);

export const notFound = (resource: string, group: string, name: string) =>
    new KubeError(404, 'NotFound', `${what(resource, group)} "${name}" not found`, { name, group, kind: resource });
export const alreadyExists = (resource: string, group: string, name: string) =>
    new KubeError(409, 'AlreadyExists', `${what(resource, group)} "${name}" already exists`, { name, group, kind: resource });
export const conflict = (resource: string, group: string, name: string) =>
    new KubeError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${what(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group, kind: resource }
    );
export const gone = (rv: string) => new KubeError(410, 'Expired', `too old resource version: ${rv}`);
export const invalid = (kind: string, group: string, name: string, causes: Array<{ field: string; message: string }>) =>
    new KubeError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
        name,
        group,
        kind,
        causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field }))
    });
export const badRequest = (message: string) => new KubeError(400, 'BadRequest', message);
