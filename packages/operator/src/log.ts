/** One JSON line per entry on stdout. Callers never pass secrets: resources' credentials and keys stay out of logs. */
export interface Logger {
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
    error(msg: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
    const at =
        (level: string) =>
        (msg: string, fields: Record<string, unknown> = {}) =>
            write(JSON.stringify({ level, time: new Date().toISOString(), ...base, msg, ...fields }));
    return { info: at('info'), warn: at('warn'), error: at('error') };
}
