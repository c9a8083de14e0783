import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineRoute } from '../http/route.ts';
import { openApiDocument, type DocumentedRoute } from '../http/openapi.ts';

const packageJson = z.object({ version: z.string() });

/**
 * `GET /openapi.json`: the API's OpenAPI 3.1 document (issue #16 item 3), built once from the route table it is
 * given. It describes the admin routes too, so it is kept off the public listener (SWITCHBOARD_PUBLIC_PORT); it
 * holds nothing secret, so it needs no key on the main port (code generators fetch it as is).
 */
export function openApiRoutes(table: () => readonly DocumentedRoute[]) {
    let document: unknown;
    return [
        defineRoute({
            method: 'GET',
            url: '/openapi.json',
            auth: 'public',
            surface: 'private',
            handler: async () => {
                document ??= openApiDocument(
                    table(),
                    packageJson.parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))).version
                );
                return document;
            }
        })
    ];
}
