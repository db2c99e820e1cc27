import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl } from './config.ts';

describe('configuration', () => {
  it('has working local defaults and is frozen', () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/tweeter');
    expect(config.COMMAND_PORT).toBe(3001);
    expect(config.QUERY_PORT).toBe(3002);
    expect(config.PROJECTOR_PORT).toBe(3003);
    expect(config.FANOUT_MAX_FOLLOWERS).toBe(1_000);
    expect(config.RATE_LIMIT_WRITES_PER_MINUTE).toBe(300);
    expect(config.EVENTSTORE_CONNECTION_STRING).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads and coerces the environment; empty means unset', () => {
    const config = loadConfig({
      COMMAND_PORT: '4001',
      RATE_LIMIT_WRITES_PER_MINUTE: '0',
      EVENTSTORE_CONNECTION_STRING: '',
    });
    expect(config.COMMAND_PORT).toBe(4001);
    expect(config.RATE_LIMIT_WRITES_PER_MINUTE).toBe(0);
    expect(config.EVENTSTORE_CONNECTION_STRING).toBeUndefined();
  });

  it('names every bad value in one clear error, hiding passwords', () => {
    let error: unknown;
    try {
      loadConfig({
        COMMAND_PORT: 'abc',
        QUERY_PORT: '70000',
        DATABASE_URL: 'mysql://root:hunter2@db/x',
        LOG_LEVEL: 'loud',
        REDIS_PREFIX: 'a b',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of [
      'COMMAND_PORT',
      'QUERY_PORT',
      'DATABASE_URL',
      'LOG_LEVEL',
      'REDIS_PREFIX',
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('hunter2');
    expect(message).toContain('"abc"');
  });

  it('reads REDIS_CLUSTER_NODES as a list of host:port, unset meaning one server', () => {
    expect(loadConfig({}).REDIS_CLUSTER_NODES).toBeUndefined();
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: ' 10.0.0.1:7001, redis-2:7002 ,' }).REDIS_CLUSTER_NODES,
    ).toEqual(['10.0.0.1:7001', 'redis-2:7002']);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis-1' })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('redacts credentials in URLs', () => {
    expect(redactUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});
