/**
 * The globals the Nango runner sandbox hands scripts beyond ECMAScript built-ins (docs/scripts-compatibility.md, "Sandbox"):
 * Buffer, setTimeout, URL, URLSearchParams. Declared narrowly on purpose: tsconfig.json loads no @types,
 * so using fetch, process, btoa or TextEncoder in a script is a type error instead of a runtime surprise.
 */
type SandboxEncoding = 'utf8' | 'utf-8' | 'base64' | 'base64url' | 'hex' | 'latin1' | 'binary' | 'ascii';

interface SandboxBuffer extends Uint8Array {
    toString(encoding?: SandboxEncoding): string;
}

declare const Buffer: {
    from(data: string, encoding?: SandboxEncoding): SandboxBuffer;
    from(data: ArrayLike<number>): SandboxBuffer;
    byteLength(data: string, encoding?: SandboxEncoding): number;
    isBuffer(value: unknown): value is SandboxBuffer;
};

declare function setTimeout(callback: () => void, ms?: number): unknown;

declare class URLSearchParams {
    constructor(init?: string | Record<string, string>);
    get(name: string): string | null;
    getAll(name: string): string[];
    append(name: string, value: string): void;
    toString(): string;
}

declare class URL {
    constructor(url: string, base?: string);
    readonly pathname: string;
    readonly search: string;
    readonly searchParams: URLSearchParams;
    toString(): string;
}
