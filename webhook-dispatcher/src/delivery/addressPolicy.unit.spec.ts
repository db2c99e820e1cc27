import { describe, expect, it } from 'vitest';
import { checkWebhookTarget, isPublicAddress } from './addressPolicy.ts';

describe('webhook target addresses', () => {
  it.each([
    '127.0.0.1',
    '::1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.0.1',
    '169.254.169.254',
    'fd00:ec2::254',
    'fe80::1',
    '224.0.0.1',
    'ff02::1',
    '0.0.0.0',
    '::',
    '100.64.0.1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34'])(
    'accepts %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  const resolver = (map: Record<string, string[]>) => (host: string) =>
    map[host] ? Promise.resolve(map[host]) : Promise.reject(new Error('ENOTFOUND'));

  it('refuses a name when any address it resolves to is not public', async () => {
    const resolve = resolver({
      'mixed.example': ['93.184.216.34', '127.0.0.1'],
      'good.example': ['93.184.216.34'],
    });
    expect(await checkWebhookTarget('https://mixed.example/x', false, resolve)).toMatchObject({
      ok: false,
    });
    expect(await checkWebhookTarget('https://good.example/x', false, resolve)).toEqual({
      ok: true,
    });
    expect(await checkWebhookTarget('https://nowhere.example/', false, resolve)).toMatchObject({
      ok: false,
    });
  });

  it('checks literal addresses (IPv6 in brackets) without DNS, and the scheme and credentials', async () => {
    const resolve = () => Promise.reject(new Error('no DNS in this test'));
    expect((await checkWebhookTarget('http://[::1]:8080/', false, resolve)).ok).toBe(false);
    expect((await checkWebhookTarget('http://[2606:2800:220:1::1]/', false, resolve)).ok).toBe(
      true,
    );
    expect((await checkWebhookTarget('ftp://93.184.216.34/', false, resolve)).ok).toBe(false);
    expect((await checkWebhookTarget('https://a:b@93.184.216.34/', false, resolve)).ok).toBe(false);
  });

  it('lets private targets through when WEBHOOK_ALLOW_PRIVATE_NETWORKS=true', async () => {
    expect(await checkWebhookTarget('http://127.0.0.1:3000/', true)).toEqual({ ok: true });
  });
});
