import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.ts';
import { natsServers, natsUrlList } from './nats.ts';

describe('NATS_URL and NATS_STREAM_REPLICAS', () => {
  it('keeps one URL as it was, and reads a comma-separated list of a cluster’s servers', () => {
    expect(loadConfig({}).NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(loadConfig({ NATS_URL: 'nats://nats:4222' }).NATS_URL).toBe('nats://nats:4222');
    const list = loadConfig({
      NATS_URL: ' nats://127.0.0.1:4301, tls://b.example:4302,,ws://c:8080 ',
    }).NATS_URL;
    expect(list).toBe('nats://127.0.0.1:4301,tls://b.example:4302,ws://c:8080');
    expect(natsUrlList(list)).toHaveLength(3);
  });

  it('refuses a list with an entry that is not a nats, tls or ws URL, naming the variable', () => {
    for (const bad of ['nats://a:4222,http://b:4222', 'nats://a:4222,b:4222', ',', 'redis://x'])
      expect(() => loadConfig({ NATS_URL: bad })).toThrow(
        /NATS_URL: must be a URL starting with nats:\/\//,
      );
  });

  it('dials host:port for each entry, 4222 when the port is left out', () => {
    expect(natsServers('nats://127.0.0.1:4222')).toEqual(['127.0.0.1:4222']);
    expect(natsServers('nats://a,tls://b:4303, nats://[::1]:4301')).toEqual([
      'a:4222',
      'b:4303',
      '[::1]:4301',
    ]);
    expect(natsServers(['nats://a:1', 'nats://b:2'])).toEqual(['a:1', 'b:2']);
  });

  it('reads NATS_STREAM_REPLICAS as 1–5, unset meaning "not stated"', () => {
    expect(loadConfig({}).NATS_STREAM_REPLICAS).toBeUndefined();
    expect(loadConfig({ NATS_STREAM_REPLICAS: '3' }).NATS_STREAM_REPLICAS).toBe(3);
    for (const bad of ['0', '6', '2.5', 'three'])
      expect(() => loadConfig({ NATS_STREAM_REPLICAS: bad })).toThrow(ConfigError);
    expect(() => loadConfig({ NATS_STREAM_REPLICAS: '7' })).toThrow(
      /NATS_STREAM_REPLICAS: must be 1–5 \(got "7"\)/,
    );
  });
});
