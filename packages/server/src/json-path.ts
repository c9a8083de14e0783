/**
 * The value at a dotted path of a parsed JSON body (`data.session`, `authed_user.access_token`, `items.0.id`),
 * or undefined when a step is missing. Provider definitions name response fields this way: `token_response`,
 * `alternate_access_token_response_path`, `token_response_metadata`. Only own properties are followed.
 */
export function valueAt(value: unknown, path: string): unknown {
    let v = value;
    for (const part of path.split('.')) v = v !== null && typeof v === 'object' && Object.hasOwn(v, part) ? (v as Record<string, unknown>)[part] : undefined;
    return v;
}
