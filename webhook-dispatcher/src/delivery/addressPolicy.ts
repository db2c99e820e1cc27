import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { validationProblem } from '@tweeter/shared';
import ipaddr from 'ipaddr.js';

/*
 * Which addresses a webhook may reach: global unicast only. This is the single rule, used at
 * registration (checkWebhookTarget) and at every connect (webhookClient.ts's agents).
 *
 * ipaddr.js's range() is a first net: anything it labels other than 'unicast' (loopback, private,
 * link-local, multicast, unique-local, ...) is refused. It is not enough on its own — range() says
 * 'unicast' for `::/96` (IPv4-compatible: `http://[::127.0.0.1]/` parses to host `::7f00:1`, which
 * passed), `5f00::/16` and unallocated space, and older ipaddr.js versions know fewer ranges — so
 * the blocks the IANA IPv4 and IPv6 special-purpose registries mark not globally reachable are
 * also declared here, and an IPv6 address must lie in 2000::/3, the only block IANA allocates for
 * global unicast. Addresses that carry an IPv4 address (IPv4-mapped `::ffff:0:0/96`, NAT64
 * well-known `64:ff9b::/96`) are judged as that IPv4 address; the other embeddings
 * (IPv4-compatible, 6to4, Teredo, local NAT64) are refused whole. Refusing a little too much (AS112, AMT, 2001::/23's few global blocks) is
 * deliberate: no webhook receiver lives there.
 */

const cidrs4 = (list: string[]) => list.map((c) => ipaddr.IPv4.parseCIDR(c));
const cidrs6 = (list: string[]) => list.map((c) => ipaddr.IPv6.parseCIDR(c));

/** IANA IPv4 special-purpose (and multicast) blocks that are not globally reachable. */
const NOT_PUBLIC_V4 = cidrs4([
  '0.0.0.0/8', // "this network", RFC 791
  '10.0.0.0/8', // private, RFC 1918
  '100.64.0.0/10', // shared address space (carrier-grade NAT), RFC 6598
  '127.0.0.0/8', // loopback, RFC 1122
  '169.254.0.0/16', // link-local (cloud metadata 169.254.169.254), RFC 3927
  '172.16.0.0/12', // private, RFC 1918
  '192.0.0.0/24', // IETF protocol assignments, RFC 6890
  '192.0.2.0/24', // documentation TEST-NET-1, RFC 5737
  '192.31.196.0/24', // AS112-v4, RFC 7535
  '192.52.193.0/24', // AMT, RFC 7450
  '192.88.99.0/24', // deprecated 6to4 relay anycast, RFC 7526
  '192.168.0.0/16', // private, RFC 1918
  '192.175.48.0/24', // AS112 direct delegation, RFC 7534
  '198.18.0.0/15', // benchmarking, RFC 2544
  '198.51.100.0/24', // documentation TEST-NET-2, RFC 5737
  '203.0.113.0/24', // documentation TEST-NET-3, RFC 5737
  '224.0.0.0/4', // multicast, RFC 5771
  '240.0.0.0/4', // reserved, RFC 1112
  '255.255.255.255/32', // limited broadcast, RFC 919
]);

/** IANA IPv6 special-purpose blocks that are not globally reachable (or carry IPv4 we won't trust). */
const NOT_PUBLIC_V6 = cidrs6([
  '::/96', // IPv4-compatible (deprecated, RFC 4291), with :: and ::1
  '100::/64', // discard-only, RFC 6666
  '64:ff9b:1::/48', // local-use NAT64, RFC 8215
  '2001::/23', // IETF protocol assignments (Teredo 2001::/32, benchmarking, ORCHID...), RFC 2928
  '2001:db8::/32', // documentation, RFC 3849
  '2002::/16', // 6to4, RFC 3056 (deprecated relays, RFC 7526)
  '3fff::/20', // documentation, RFC 9637
  '5f00::/16', // SRv6 SIDs, RFC 9602
  'fc00::/7', // unique-local, RFC 4193
  'fe80::/10', // link-local, RFC 4291
  'fec0::/10', // site-local (deprecated), RFC 3879
  'ff00::/8', // multicast, RFC 4291
]);

/** The only IPv6 block IANA allocates for global unicast (RFC 4291 §2.4, RFC 3587). */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
/** IPv6 blocks whose last 32 bits are an IPv4 address, judged as that address. */
const IPV4_MAPPED = ipaddr.IPv6.parseCIDR('::ffff:0:0/96'); // RFC 4291
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96'); // RFC 6052

/**
 * Whether an IP address may be the target of a webhook (see the rule above). Anything that is not
 * an IP address in a standard spelling (net.isIP) is refused.
 */
export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return isPublicV4(ipaddr.IPv4.parse(address));
  if (family === 6) return isPublicV6(ipaddr.IPv6.parse(hexTail(address)));
  return false;
}

/**
 * An IPv6 address without its zone (irrelevant here) and with a dotted IPv4 tail rewritten as two
 * hex groups. ipaddr.js reads `::a.b.c.d` as `::ffff:a.b.c.d` (mapped), which is not the address
 * a socket connects to (`::a.b.c.d` is IPv4-compatible, `::7f00:1` for `::127.0.0.1`).
 */
function hexTail(address: string): string {
  const [bare = ''] = address.split('%');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(bare);
  if (!dotted) return bare;
  const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
  const hex = (high: number, low: number) => ((high << 8) | low).toString(16);
  return `${bare.slice(0, dotted.index)}${hex(a, b)}:${hex(c, d)}`;
}

function isPublicV4(address: ipaddr.IPv4): boolean {
  return address.range() === 'unicast' && !NOT_PUBLIC_V4.some((cidr) => address.match(cidr));
}

function isPublicV6(address: ipaddr.IPv6): boolean {
  if (address.match(IPV4_MAPPED) || address.match(NAT64_WELL_KNOWN)) {
    const [high, low] = address.parts.slice(-2) as [number, number];
    return isPublicV4(new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]));
  }
  return (
    address.match(GLOBAL_UNICAST_V6) &&
    address.range() === 'unicast' &&
    !NOT_PUBLIC_V6.some((cidr) => address.match(cidr))
  );
}

export type TargetCheck = { ok: true } | { ok: false; reason: string };

/**
 * The registration-time check of a webhook URL: http(s), no credentials, and (unless private
 * networks are allowed) a host whose every resolved address is public. This is a courtesy to the
 * caller (a clear 400 at once); the guard that counts runs again at every attempt, at connect time,
 * so a name that later resolves elsewhere (DNS rebinding) is still refused.
 */
export async function checkWebhookTarget(
  rawUrl: string,
  allowPrivateNetworks: boolean,
  resolve: (host: string) => Promise<string[]> = resolveAll,
): Promise<TargetCheck> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: 'must use http or https' };
  if (url.username !== '' || url.password !== '')
    return { ok: false, reason: 'must not carry credentials' };
  if (allowPrivateNetworks) return { ok: true };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (net.isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      return { ok: false, reason: `host ${host} does not resolve` };
    }
  }
  const refused = addresses.find((a) => !isPublicAddress(a));
  if (refused !== undefined)
    return {
      ok: false,
      reason: `resolves to ${refused}, a loopback, private, link-local or otherwise non-public address`,
    };
  if (addresses.length === 0) return { ok: false, reason: `host ${host} does not resolve` };
  return { ok: true };
}

/** checkWebhookTarget as a request's check: a refused URL is a 400 naming the body field. */
export async function requireWebhookTarget(
  rawUrl: string,
  field: string,
  allowPrivateNetworks: boolean,
  resolve?: (host: string) => Promise<string[]>,
): Promise<void> {
  const target = await checkWebhookTarget(rawUrl, allowPrivateNetworks, resolve);
  if (!target.ok)
    throw validationProblem(`The webhook URL is refused: it ${target.reason}`, [
      { path: field, message: target.reason },
    ]);
}

async function resolveAll(host: string): Promise<string[]> {
  const results = await lookup(host, { all: true, verbatim: true });
  return results.map((r) => r.address);
}
