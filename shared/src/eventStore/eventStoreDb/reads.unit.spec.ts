import { EventStoreDBClient } from '@eventstore/db-client';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePosition, type RecordedEvent } from '../port.ts';
import { EventStoreDbEventStore } from './eventStoreDbEventStore.ts';
import { newestUserPosition, positionOf, readUserEvents, toPosition } from './reads.ts';
import { FakeLog } from './testing/fakeLog.ts';

// A client that is never called by these tests (every $all read goes to the fake log).
const clients: EventStoreDBClient[] = [];
const storeOn = (log: FakeLog, subscription?: FakeLog['subscription']) => {
  const client = EventStoreDBClient.connectionString('esdb://127.0.0.1:1?tls=false');
  clients.push(client);
  return new EventStoreDbEventStore(client, {
    openAll: log.open,
    ...(subscription ? { subscribeAll: () => subscription([]) } : {}),
  });
};
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

describe('reads stopped early', () => {
  it('leave a call open with a plain break: the control (the client ends a call only on cancel)', async () => {
    const log = new FakeLog();
    log.appendUser(500);
    for (let i = 0; i < 10; i++) for await (const _ of log.open('end', 256, 'backwards')) break;
    expect(log.openCalls).toBe(10);
  });

  it('leave no call open after thousands of early exits (head, batches, ping, lag)', async () => {
    const log = new FakeLog();
    log.appendUser(300);
    log.appendSystem(40);
    const store = storeOn(log);
    for (let i = 0; i < 1000; i++) {
      await store.headPosition();
      await store.readAll({ after: null, maxCount: 2 });
      await store.ping();
      await store.estimatedLag(null);
    }
    expect(log.calls.length).toBeGreaterThanOrEqual(4000);
    expect(log.openCalls).toBe(0);
  });

  it('cancel the call when the consumer throws', async () => {
    const log = new FakeLog();
    log.appendUser(100);
    const failing = () =>
      readUserEvents(
        (from, count, direction) => {
          const read = log.open(from, count, direction);
          return {
            cancel: () => read.cancel(),
            async *[Symbol.asyncIterator]() {
              let n = 0;
              for await (const e of read) {
                if (++n === 3) throw new Error('boom');
                yield e;
              }
            },
          };
        },
        null,
        50,
      );
    await expect(failing()).rejects.toThrow('boom');
    expect(log.openCalls).toBe(0);
  });
});

describe('reads across runs of system events', () => {
  it('fill a batch up to maxCount, however long the run of system events between', async () => {
    const log = new FakeLog();
    const first = log.appendUser(3);
    log.appendSystem(1000);
    log.appendUser(4);
    const store = storeOn(log);
    const batch = await store.readAll({ after: toPosition(first[0]!), maxCount: 5 });
    expect(batch).toHaveLength(5);
    expect(batch.every((e) => !e.streamId.startsWith('$'))).toBe(true);
    // Strictly after, in order.
    expect(batch[0]!.position > toPosition(first[0]!)).toBe(true);
    for (let i = 1; i < batch.length; i++)
      expect(batch[i]!.position > batch[i - 1]!.position).toBe(true);
    expect(log.openCalls).toBe(0);
  });

  it('come back short only at the real end of the log', async () => {
    const log = new FakeLog();
    log.appendUser(2);
    log.appendSystem(500);
    log.appendUser(1);
    log.appendSystem(500);
    const store = storeOn(log);
    let after = null as RecordedEvent['position'] | null;
    const seen: RecordedEvent[] = [];
    for (;;) {
      const batch = await store.readAll({ after, maxCount: 2 });
      seen.push(...batch);
      if (batch.length < 2) break;
      after = batch.at(-1)!.position;
    }
    expect(seen).toHaveLength(3);
    expect(await store.readAll({ after: seen.at(-1)!.position, maxCount: 10 })).toEqual([]);
  });

  it('find the head behind more than 256 trailing system events; null for a log of system events only', async () => {
    const log = new FakeLog();
    expect(await newestUserPosition(log.open)).toBeNull();
    log.appendSystem(300);
    expect(await newestUserPosition(log.open)).toBeNull();
    const [user] = log.appendUser(1);
    log.appendSystem(5000);
    const store = storeOn(log);
    expect(await store.headPosition()).toBe(toPosition(user!));
    expect(log.openCalls).toBe(0);
  });

  it('count exactly, and estimate lag from positions: 0 at the head', async () => {
    const log = new FakeLog();
    const [start] = log.appendUser(1);
    log.appendSystem(700);
    const users = log.appendUser(10);
    const store = storeOn(log);
    expect(await store.countAfter(toPosition(start!), 1000)).toBe(10);
    expect(await store.countAfter(toPosition(start!), 4)).toBe(4);
    expect(await store.estimatedLag(toPosition(users.at(-1)!))).toBe(0);
    const lag = await store.estimatedLag(toPosition(start!));
    // (710 records × 300 bytes) / 512 nominal bytes per record.
    expect(lag).toBe(Math.round((710 * 300) / 512));
    expect(await store.estimatedLag(toPosition(users.at(-2)!))).toBe(1);
  });

  it('turn empty metadata into null', async () => {
    const log = new FakeLog();
    log.append({ streamId: 's', type: 'T' }, { streamId: 's', type: 'T', metadata: { a: 1 } });
    const events = await storeOn(log).readAll({ maxCount: 10 });
    expect(events.map((e) => e.metadata)).toEqual([null, { a: 1 }]);
  });
});

describe('positions from the client', () => {
  it('treat protobuf defaults and the invalid position as missing', () => {
    expect(positionOf({ position: { commit: 0n, prepare: 0n } })).toBeNull();
    expect(
      positionOf({ position: { commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n } }),
    ).toBeNull();
    expect(positionOf({})).toBeNull();
    expect(positionOf({ position: { commit: 10n, prepare: 10n } })).toEqual({
      commit: 10n,
      prepare: 10n,
    });
  });

  it('carry the store kind', () => {
    expect(toPosition({ commit: 1n, prepare: 2n })).toBe(encodePosition(1n, 2n, 'eventstoredb'));
    expect(toPosition({ commit: 1n, prepare: 2n }).startsWith('esdb:')).toBe(true);
  });
});

describe('the subscription guard', () => {
  it('drops events at or before the start position and any that go backwards', async () => {
    const log = new FakeLog();
    const positions = log.appendUser(6);
    const [e0, e1, e2, e3, e4, e5] = log.events;
    // A server that (wrongly) starts at the position itself and repeats an event.
    const delivered = [e1, e2, e3, e2, e4, e0, e5].map((e) => e!);
    const client = EventStoreDBClient.connectionString('esdb://127.0.0.1:1?tls=false');
    clients.push(client);
    const store = new EventStoreDbEventStore(client, {
      openAll: log.open,
      subscribeAll: () => log.subscription(delivered),
    });
    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    for await (const batch of store.subscribe({
      after: toPosition(positions[1]!),
      signal: controller.signal,
    })) {
      seen.push(...batch);
      if (seen.length >= 3) controller.abort();
    }
    expect(seen.map((e) => e.position)).toEqual(
      [positions[2]!, positions[3]!, positions[4]!, positions[5]!]
        .slice(0, seen.length)
        .map(toPosition),
    );
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });
});
