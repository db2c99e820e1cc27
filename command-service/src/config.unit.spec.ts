import { ConfigError } from '@tweeter/shared';
import { describe, expect, it } from 'vitest';
import { loadCommandConfig } from './config.ts';

describe('command service configuration', () => {
  it('limits sign-ups to 20 per address and hour and trusts no further proxy by default', () => {
    const config = loadCommandConfig({});
    expect(config.RATE_LIMIT_SIGNUPS_PER_HOUR).toBe(20);
    expect(config.TRUST_PROXY).toBeUndefined();
  });

  it('turns the sign-up limit off with 0 and refuses anything but a whole number ≥ 0', () => {
    expect(
      loadCommandConfig({ RATE_LIMIT_SIGNUPS_PER_HOUR: '0' }).RATE_LIMIT_SIGNUPS_PER_HOUR,
    ).toBe(0);
    for (const bad of ['-1', '2.5', 'many'])
      expect(() => loadCommandConfig({ RATE_LIMIT_SIGNUPS_PER_HOUR: bad })).toThrow(
        /RATE_LIMIT_SIGNUPS_PER_HOUR/,
      );
  });

  it("reads TRUST_PROXY as express's trust proxy values", () => {
    const trust = (value: string) => loadCommandConfig({ TRUST_PROXY: value }).TRUST_PROXY;
    expect(trust('false')).toBe(false);
    expect(trust('true')).toBe(true);
    expect(trust('2')).toBe(2);
    expect(trust('loopback, 10.0.0.0/8')).toBe('loopback, 10.0.0.0/8');
    expect(trust('')).toBeUndefined();
    expect(() => loadCommandConfig({ TRUST_PROXY: 'the load balancer' })).toThrow(ConfigError);
    expect(() => loadCommandConfig({ TRUST_PROXY: '10.0.0.0/99' })).toThrow(/TRUST_PROXY/);
  });
});
