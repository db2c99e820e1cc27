import { describe, expect, it } from 'vitest';
import { checkWebhookTarget, isPublicAddress } from './addressPolicy.ts';

describe('webhook target addresses', () => {
  // Every block the IANA special-purpose registries mark not globally reachable, one or more
  // addresses in each (first, inside, last where it matters), in several spellings.
  const refusedV4: [string, string[]][] = [
    ['0.0.0.0/8 this network', ['0.0.0.0', '0.1.2.3', '0.255.255.255']],
    ['10.0.0.0/8 private', ['10.0.0.1', '10.255.255.255']],
    ['100.64.0.0/10 carrier-grade NAT', ['100.64.0.1', '100.127.255.254']],
    ['127.0.0.0/8 loopback', ['127.0.0.1', '127.1.2.3']],
    ['169.254.0.0/16 link-local / metadata', ['169.254.169.254', '169.254.0.1']],
    ['172.16.0.0/12 private', ['172.16.5.4', '172.31.255.255']],
    ['192.0.0.0/24 IETF protocol assignments', ['192.0.0.1', '192.0.0.170', '192.0.0.255']],
    ['192.0.2.0/24 TEST-NET-1', ['192.0.2.1']],
    ['192.31.196.0/24 AS112-v4', ['192.31.196.1']],
    ['192.52.193.0/24 AMT', ['192.52.193.1']],
    ['192.88.99.0/24 6to4 relay anycast', ['192.88.99.1']],
    ['192.168.0.0/16 private', ['192.168.0.1', '192.168.255.255']],
    ['192.175.48.0/24 AS112 direct delegation', ['192.175.48.1']],
    ['198.18.0.0/15 benchmarking', ['198.18.0.1', '198.19.255.255']],
    ['198.51.100.0/24 TEST-NET-2', ['198.51.100.7']],
    ['203.0.113.0/24 TEST-NET-3', ['203.0.113.9']],
    ['224.0.0.0/4 multicast', ['224.0.0.1', '239.255.255.255']],
    ['240.0.0.0/4 reserved', ['240.0.0.1', '255.255.255.254']],
    ['255.255.255.255/32 broadcast', ['255.255.255.255']],
  ];
  const refusedV6: [string, string[]][] = [
    [
      '::/96 IPv4-compatible (the reported hole)',
      [
        '::127.0.0.1',
        '::169.254.169.254',
        '::10.0.0.1',
        '::7f00:1',
        '0:0:0:0:0:0:127.0.0.1',
        '0000:0000:0000:0000:0000:0000:7f00:0001',
        '::a9fe:a9fe',
        '::8.8.8.8', // deprecated form: refused whatever it carries
        '::',
        '::1',
        '0:0:0:0:0:0:0:1',
      ],
    ],
    [
      '::ffff:0:0/96 IPv4-mapped, judged as the IPv4 it carries',
      [
        '::ffff:127.0.0.1',
        '::ffff:7f00:1',
        '0:0:0:0:0:ffff:127.0.0.1',
        '::FFFF:7F00:1',
        '::ffff:10.0.0.1',
        '::ffff:169.254.169.254',
        '::ffff:100.64.0.1',
        '::ffff:192.0.2.1',
        '::ffff:0.0.0.0',
      ],
    ],
    ['::ffff:0:0:0/96 IPv4-translated', ['::ffff:0:127.0.0.1', '::ffff:0:808:808']],
    ['64:ff9b::/96 NAT64, judged as the IPv4 it carries', ['64:ff9b::127.0.0.1', '64:ff9b::a00:1']],
    ['64:ff9b:1::/48 local-use NAT64', ['64:ff9b:1::808:808', '64:ff9b:1:ffff::1']],
    ['100::/64 discard', ['100::1', '100::ffff:ffff:ffff:ffff']],
    ['2001::/32 Teredo', ['2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2']],
    ['2001::/23 IETF protocol assignments', ['2001:2::1', '2001:10::1', '2001:1ff::1']],
    ['2001:db8::/32 documentation', ['2001:db8::1', '2001:0db8:85a3::8a2e:370:7334']],
    ['2002::/16 6to4', ['2002:7f00:1::1', '2002:808:808::1', '2002::']],
    ['3fff::/20 documentation', ['3fff::1', '3fff:fff:ffff::1']],
    ['5f00::/16 SRv6 SIDs', ['5f00::1', '5f00:ffff::1']],
    ['fc00::/7 unique-local', ['fc00::1', 'fd00:ec2::254', 'fdff:ffff::1']],
    ['fe80::/10 link-local', ['fe80::1', 'fe80::1%eth0', 'febf::1']],
    ['fec0::/10 site-local', ['fec0::1', 'feff::1']],
    ['ff00::/8 multicast', ['ff02::1', 'ff05::1:3', 'ffff::1']],
    ['outside 2000::/3, the only global unicast block', ['4000::1', 'e000::1', '1::1']],
  ];

  describe.each([...refusedV4, ...refusedV6])('refuses %s', (_range, addresses) => {
    it.each(addresses)('%s', (address) => {
      expect(isPublicAddress(address)).toBe(false);
    });
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '100.63.255.255', // just below 100.64/10
    '100.128.0.1', // just above
    '172.15.255.255', // just below 172.16/12
    '172.32.0.1', // just above
    '192.0.1.1',
    '198.17.255.255',
    '198.20.0.1',
    '223.255.255.254',
    '2606:4700::1111',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2606:2800:220:1:248:1893:25c8:1946',
    '2001:200::1', // just past 2001::/23
    '2a00:1450:4001:81b::200e',
    '::ffff:93.184.216.34',
    '::ffff:808:808',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8', // NAT64 of a public IPv4 address
  ])('accepts %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each(['', 'example.com', '127.1', '0x7f.0.0.1', '2130706433', '[::1]', '::ffff:1.2.3'])(
    'refuses %j, not an address in a standard spelling',
    (address) => {
      expect(isPublicAddress(address)).toBe(false);
    },
  );

  const resolver = (map: Record<string, string[]>) => (host: string) =>
    map[host] ? Promise.resolve(map[host]) : Promise.reject(new Error('ENOTFOUND'));

  it('refuses a name when any address it resolves to is not public', async () => {
    const resolve = resolver({
      'mixed.example': ['93.184.216.34', '127.0.0.1'],
      'compat.example': ['2606:4700::1111', '::7f00:1'],
      'good.example': ['93.184.216.34'],
    });
    expect(await checkWebhookTarget('https://mixed.example/x', false, resolve)).toMatchObject({
      ok: false,
    });
    expect(await checkWebhookTarget('https://compat.example/x', false, resolve)).toMatchObject({
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
    for (const url of [
      'http://[::127.0.0.1]/',
      'http://[::169.254.169.254]/',
      'http://[::10.0.0.1]/',
      'http://[0:0:0:0:0:0:127.0.0.1]:8080/',
      'http://[::ffff:7f00:1]/',
      'https://[64:ff9b::a9fe:a9fe]/',
    ])
      expect(await checkWebhookTarget(url, false, resolve), url).toMatchObject({ ok: false });
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
