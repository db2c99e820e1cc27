import { EventStoreDBClient } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config/config.ts';

const clients: EventStoreDBClient[] = [];

describe('EVENTSTORE_CONNECTION_STRING', () => {
  it('refuses kurrentdb://, which the client rejects at start', () => {
    // The client's own parser: the reason for the rule.
    expect(() =>
      EventStoreDBClient.connectionString('kurrentdb://127.0.0.1:2113?tls=false'),
    ).toThrow(/expected esdb:\/\/ or esdb\+discover:\/\//);
    for (const value of ['kurrentdb://127.0.0.1:2113?tls=false', 'kurrentdb+discover://db:2113']) {
      expect(() => loadConfig({ EVENTSTORE_CONNECTION_STRING: value })).toThrow(ConfigError);
      expect(() => loadConfig({ EVENTSTORE_CONNECTION_STRING: value })).toThrow(
        /kurrentdb:\/\/ is not understood .* write esdb:\/\//,
      );
    }
    expect(() => loadConfig({ EVENTSTORE_CONNECTION_STRING: 'http://db:2113' })).toThrow(
      /must start with esdb:\/\/ or esdb\+discover:\/\//,
    );
  });

  it('accepts what the client accepts: esdb:// and esdb+discover:// (a cluster)', () => {
    for (const value of [
      'esdb://127.0.0.1:2113?tls=false',
      'esdb+discover://admin:changeit@cluster.dns:2113?tlsCAFile=/certs/ca.crt',
      'esdb://node1:2113,node2:2113,node3:2113?nodePreference=leader',
    ]) {
      expect(loadConfig({ EVENTSTORE_CONNECTION_STRING: value }).EVENTSTORE_CONNECTION_STRING).toBe(
        value,
      );
      if (!value.includes('tlsCAFile')) clients.push(EventStoreDBClient.connectionString(value));
    }
  });
});
