import OAuth from 'oauth-1.0a';
import { createHmac, createSign } from 'node:crypto';
import type { ProviderDefinition } from '../providers/schema.ts';

const hashes: Record<string, string> = { 'HMAC-SHA1': 'sha1', 'HMAC-SHA256': 'sha256' };

/** An OAuth 1.0a (RFC 5849 §3) signer for a consumer, with the provider's signature method (HMAC-SHA1 by default). */
export function oauth1Signer(def: ProviderDefinition, consumerKey: string, consumerSecret: string): OAuth {
    const method = def.signature_method ?? 'HMAC-SHA1';
    const algorithm = hashes[method];
    // RSA-SHA1 (RFC 5849 §3.4.3): the consumer secret is the consumer's PEM private key; no token secret is mixed in.
    if (method === 'RSA-SHA1') {
        return new OAuth({
            consumer: { key: consumerKey, secret: consumerSecret },
            signature_method: method,
            hash_function: (base) => createSign('RSA-SHA1').update(base).sign(consumerSecret, 'base64')
        });
    }
    return new OAuth({
        consumer: { key: consumerKey, secret: consumerSecret },
        signature_method: method,
        // PLAINTEXT: the signature is the key itself (RFC 5849 §3.4.4).
        hash_function: (base, key) => (algorithm ? createHmac(algorithm, key).update(base).digest('base64') : key)
    });
}
