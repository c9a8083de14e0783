/** Child side of the host RPC: a ScriptHost whose every method is one `call` message answered by a `reply`. */
import type { CallMessage, ReplyMessage } from './protocol.ts';
import { HOST_METHOD_NAMES } from './protocol.ts';
import { HostCallError } from './sdk/errors.ts';
import type { ScriptHost, ScriptHostMethod } from './types.ts';

type Send = (msg: CallMessage) => void;

export interface IpcHost {
    host: ScriptHost;
    /** Settles the pending call the reply answers; replies to unknown ids (an earlier run) are dropped. */
    onReply(msg: ReplyMessage): void;
}

/** Builds the RPC stub for one run. */
export function createIpcHost(runId: string, send: Send): IpcHost {
    let nextId = 1;
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    const call = (method: ScriptHostMethod, args: unknown[]): Promise<unknown> =>
        new Promise((resolve, reject) => {
            const id = nextId++;
            pending.set(id, { resolve, reject });
            try {
                send({ t: 'call', runId, id, method, args });
            } catch (err) {
                // Typically a DataCloneError: the script passed a function or similar inside a record.
                pending.delete(id);
                reject(
                    new HostCallError(
                        'DataCloneError',
                        `nango call '${method}' has arguments that cannot be sent: ${err instanceof Error ? err.message : String(err)}`
                    )
                );
            }
        });
    const stub: Partial<Record<ScriptHostMethod, (...args: unknown[]) => Promise<unknown>>> = {};
    for (const m of HOST_METHOD_NAMES) stub[m] = (...args: unknown[]) => call(m, args);
    return {
        host: stub as unknown as ScriptHost,
        onReply(msg) {
            const p = pending.get(msg.id);
            if (!p) return;
            pending.delete(msg.id);
            if (msg.ok) p.resolve(msg.value);
            else
                p.reject(
                    new HostCallError(msg.error?.name ?? 'Error', msg.error?.message ?? 'host call failed', (msg.error as { code?: string } | undefined)?.code)
                );
        }
    };
}
