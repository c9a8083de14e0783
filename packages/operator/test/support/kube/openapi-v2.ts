/**
 * /openapi/v2 for kubectl releases before the OpenAPI v3 era (Debian bookworm ships 1.20): they download it as
 * protobuf (gnostic's openapi_v2.Document) before validating client-side, and fail without it. The stand-in answers
 * a Document without definitions: kubectl then finds no schema for a kind and leaves validation to the server,
 * which checks custom resources against their CRD (and warns about unknown fields, as servers since 1.27 do).
 */
const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
        out.push((n & 0x7f) | 0x80);
        n >>>= 7;
    }
    out.push(n);
    return out;
};
// A length-delimited field (wire type 2): strings and embedded messages.
const field = (num: number, bytes: Uint8Array): number[] => [...varint((num << 3) | 2), ...varint(bytes.length), ...bytes];
const text = (s: string) => new TextEncoder().encode(s);

/** openapi_v2.Document { swagger: "2.0", info: { title, version } }. */
export function openApiV2Protobuf(): Buffer {
    const info = Uint8Array.from([...field(1, text('Kubernetes')), ...field(2, text('v1.32.0'))]);
    return Buffer.from([...field(1, text('2.0')), ...field(2, info)]);
}

export const openApiV2Json = () => ({ swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {}, definitions: {} });
// What kube-openapi answers the protobuf form with (the requested media type has an @, which Go's mime parser refuses).
export const protobufMime = 'application/octet-stream';
