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
const paths = [...secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), 'code', 'query.code', 'params.code', 'body.code', 'req.headers.authorization', 'req.headers.cookie'];

export type { Logger };

/** The one logger: structured JSON, secrets censored by key name, URLs logged without query strings. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
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

// Query strings carry OAuth codes, states and session tokens; the path is enough to trace a request.
export function stripQuery(url: string): string {
    const i = url.indexOf('?');
    return i === -1 ? url : `${url.slice(0, i)}?[redacted]`;
}
