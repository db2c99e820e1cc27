import { lookup } from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Whether an IP address may be the target of a webhook. Only global unicast passes: loopback,
 * private, link-local (169.254.169.254, the cloud metadata address), unique-local (fd00:ec2::254),
 * multicast, unspecified, carrier-grade NAT and every other reserved range are refused — the same
 * rule request-filtering-agent applies at connect time (range !== 'unicast'). IPv4-mapped IPv6
 * addresses are judged as the IPv4 address they carry.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
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

async function resolveAll(host: string): Promise<string[]> {
  const results = await lookup(host, { all: true, verbatim: true });
  return results.map((r) => r.address);
}
