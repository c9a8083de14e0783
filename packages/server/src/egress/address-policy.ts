import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/** True when the address is publicly routable unicast (not loopback, private, link-local, CGNAT, reserved…). */
export function isPublicAddress(address: string): boolean {
    let parsed = ipaddr.parse(address);
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    return parsed.range() === 'unicast';
}

export class EgressForbiddenError extends Error {
    override name = 'EgressForbiddenError';
    readonly code = 'EGRESS_FORBIDDEN';
}

/** Rejects literal private addresses before a connection is attempted. */
export function assertHostAllowed(hostname: string, allowPrivate: boolean): void {
    const host = hostname.replace(/^\[|\]$/g, '');
    if (allowPrivate) return;
    if (host === 'localhost' || host.endsWith('.localhost')) throw new EgressForbiddenError(`Requests to ${host} are not allowed`);
    if (isIP(host) && !isPublicAddress(host)) throw new EgressForbiddenError(`Requests to ${host} are not allowed`);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A dns.lookup replacement for the socket layer: the check runs on the address actually dialled, so a name that
 * resolves (or re-resolves, DNS rebinding) to a private address is refused too.
 */
export function guardedLookup(allowPrivate: boolean) {
    return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
        dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
            if (err) return callback(err, []);
            const list = addresses as LookupAddress[];
            const allowed = allowPrivate ? list : list.filter((a) => isPublicAddress(a.address));
            if (allowed.length === 0) return callback(new EgressForbiddenError(`${hostname} resolves to a private address`), []);
            if (options.all) return callback(null, allowed);
            callback(null, allowed[0]!.address, allowed[0]!.family);
        });
    };
}
