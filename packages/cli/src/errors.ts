/**
 * One error style for the CLI: a stable UPPER_SNAKE code plus a message that names the file or flag at fault.
 * main.ts prints `error [CODE] message` and exits non-zero; nothing else writes errors to the terminal.
 */
export type CliErrorCode =
    | 'BAD_ARGS'
    | 'PROJECT_NOT_FOUND'
    | 'INDEX_MISSING'
    | 'SCRIPT_NOT_FOUND'
    | 'FORBIDDEN_IMPORT'
    | 'BUNDLE_FAILED'
    | 'BUNDLE_LOAD_FAILED'
    | 'INVALID_DEFINITION'
    | 'INVALID_FREQUENCY'
    | 'INVALID_MODEL'
    | 'INVALID_YAML'
    | 'INVALID_CONFIG'
    | 'NAMED_EXPORT'
    | 'NOTHING_TO_DEPLOY'
    | 'MISSING_SECRET_KEY'
    | 'MISSING_ADMIN_KEY'
    | 'DESTRUCTIVE_REFUSED'
    | 'WRONG_ENVIRONMENT'
    | 'PLAN_OUTDATED'
    | 'SERVER_ERROR'
    | 'SERVER_UNREACHABLE'
    | 'CONNECTION_NOT_FOUND'
    | 'DRYRUN_FAILED';

export class CliError extends Error {
    readonly code: CliErrorCode;
    constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = 'CliError';
        this.code = code;
    }
}

/** Collects several problems (e.g. one per script) so one compile run reports them all. */
export class CliErrors extends Error {
    readonly errors: CliError[];
    constructor(errors: CliError[]) {
        super(errors.map((e) => `[${e.code}] ${e.message}`).join('\n'));
        this.name = 'CliErrors';
        this.errors = errors;
    }
}
