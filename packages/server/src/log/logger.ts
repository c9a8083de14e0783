import pino, { type Logger, type DestinationStream } from 'pino';

// Redacted by key name wherever they appear, so a token that slips into a log object is censored, not printed.
const secretKeys = [
    'authorization',
    'Authorization',
    'cookie',
    'set-cookie',
    'access_token',
    'accessToken',
    'refresh_token',
    'refreshToken',
    'id_token',
    'token',
    'code_verifier',
    'client_secret',
    'clientSecret',
    'secret',
    'secretKey',
    'password',
    'apiKey',
    'api_key',
    'oauth_token',
    'oauth_token_secret',
    'private_key',
    'credentials',
    'raw'
];

// `code` (an OAuth authorization code) is only censored where a code can be: error objects keep their error code.
const paths = [
    ...secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
    'code',
    'query.code',
    'params.code',
    'body.code',
    'req.headers.authorization',
    'req.headers.cookie'
];

export type { Logger };

// Log lines to stdout are written in blocks of up to this many characters, and at the latest this long after the
// first line of a block: one write per block instead of one per line (at hundreds of scheduled runs a second, a
// write per line cost a fifth of the server's CPU). What is left is written when the process exits.
const LOG_BLOCK_CHARS = 16 * 1024;
const LOG_FLUSH_MS = 100;

const atExit = new Set<() => void>();

/** stdout, written in blocks (see LOG_BLOCK_CHARS). */
function bufferedStdout(): DestinationStream {
    // One exit hook for every logger of the process, registered before pino's (which writes what its streams hold,
    // synchronously), so the blocks reach the streams first.
    if (atExit.size === 0) process.once('exit', () => atExit.forEach((f) => f()));
    let block = '';
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
        clearTimeout(timer);
        timer = undefined;
        if (block) out.write(block);
        block = '';
    };
    atExit.add(flush);
    const out = pino.destination({ dest: 1, sync: false });
    return {
        write(line: string) {
            block += line;
            if (block.length >= LOG_BLOCK_CHARS) flush();
            else timer ??= setTimeout(flush, LOG_FLUSH_MS).unref();
        }
    };
}

/**
 * The one logger: structured JSON, secrets censored by key name, URLs logged without query strings. `errors`, when
 * given, also receives every error-level line, redacted the same way (the dashboard's recent errors).
 */
export function createLogger(level: string, out: DestinationStream = bufferedStdout(), errors?: DestinationStream): Logger {
    const destination = errors
        ? pino.multistream([
              { stream: out, level: 'trace' },
              { stream: errors, level: 'error' }
          ])
        : out;
    return pino(
        {
            level,
            base: { service: 'switchboard' },
            redact: { paths, censor: '[redacted]' },
            serializers: {
                req: (req: { method: string; url: string; id: string }) => ({ id: req.id, method: req.method, path: stripQuery(req.url) }),
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
                err: pino.stdSerializers.err
            }
        },
        destination
    );
}

// The methods Fastify checks on every per-request logger (fastify/lib/logger-factory.js validateLogger).
const forwardedMethods = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent', 'child'] as const;
const materialise = Symbol('materialise');
type Forwarder = (this: Record<symbol, () => Logger>, ...args: unknown[]) => unknown;
// One shared function per method: a look-up allocates nothing and creates no child; a call creates it.
const forwarders = new Map<string | symbol, Forwarder>(
    forwardedMethods.map((m) => [
        m,
        function (this, ...args) {
            return (this[materialise]!() as unknown as Record<string, (...a: unknown[]) => unknown>)[m]!(...args);
        }
    ])
);

/**
 * A child logger created on first use. pino serialises (and redacts) a child's bindings when it is created,
 * which costs more than a proxied request when done for each one, and most requests never log. Fastify
 * validates every per-request logger by reading its log methods, so those reads return shared forwarders
 * instead of creating the child; any other property creates it.
 */
export function lazyChild<L extends Logger>(parent: L, bindings: Record<string, unknown>, opts: Record<string, unknown>): L {
    let child: Logger | undefined;
    const real = () => (child ??= parent.child(bindings, opts));
    return new Proxy(parent, {
        get: (_target, prop) => {
            if (prop === materialise) return real;
            return forwarders.get(prop) ?? Reflect.get(real(), prop);
        }
    });
}

// Query strings carry OAuth codes, states and session tokens; the path is enough to trace a request.
export function stripQuery(url: string): string {
    const i = url.indexOf('?');
    return i === -1 ? url : `${url.slice(0, i)}?[redacted]`;
}
