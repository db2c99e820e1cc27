import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WrongExpectedRevisionError,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type RecordedEvent,
} from './port.ts';

export interface ContractFixture {
  store: EventStore;
  /** Streams of this run start with it; events of other streams (other runs on a shared server) are ignored. */
  streamPrefix: string;
  dispose(): Promise<void>;
}

const event = (type = 'Tested', data: Record<string, unknown> = {}): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: { test: true },
});

/**
 * Collects this run's events from a subscription until `count` have arrived (or the deadline).
 * Fails on any out-of-order position.
 */
async function collect(
  store: EventStore,
  prefix: string,
  count: number,
  options: { after?: Position | null; started?: () => void; deadlineMs?: number } = {},
): Promise<RecordedEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.deadlineMs ?? 60_000);
  const seen: RecordedEvent[] = [];
  let last: Position | null = options.after ?? null;
  try {
    const iterator = store.subscribe({
      after: options.after ?? null,
      signal: controller.signal,
      batchSize: 500,
    });
    options.started?.();
    for await (const batch of iterator) {
      for (const e of batch) {
        if (last !== null && !(e.position > last))
          throw new Error(
            `position went backwards: ${e.position} after ${last} (start ${String(options.after)})`,
          );
        last = e.position;
        if (e.streamId.startsWith(prefix)) seen.push(e);
      }
      if (seen.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return seen;
}

/** The behaviour every event store adapter must show. */
export function eventStoreContract(
  name: string,
  makeFixture: () => Promise<ContractFixture>,
): void {
  describe(`event store contract: ${name}`, () => {
    let fixture: ContractFixture;
    let store: EventStore;
    let stream: (label: string) => string;

    beforeAll(async () => {
      fixture = await makeFixture();
      store = fixture.store;
      stream = (label) => `${fixture.streamPrefix}${label}-${randomUUID()}`;
    });
    afterAll(async () => fixture?.dispose());

    it('appends to a new stream and reads it back in revision order', async () => {
      const s = stream('basic');
      const first = await store.append(s, [event('A', { n: 1 }), event('B', { n: 2 })], {
        expectedRevision: 'no_stream',
      });
      expect(first.nextRevision).toBe(1n);
      const second = await store.append(s, [event('C', { n: 3 })], { expectedRevision: 1n });
      expect(second.nextRevision).toBe(2n);
      expect(second.position > first.position).toBe(true);

      const events = await store.readStream(s);
      expect(events.map((e) => [e.type, e.revision, e.data])).toEqual([
        ['A', 0n, { n: 1 }],
        ['B', 1n, { n: 2 }],
        ['C', 2n, { n: 3 }],
      ]);
      expect(events[2]!.position).toBe(second.position);
      expect(await store.readStream(s, { fromRevision: 2n })).toHaveLength(1);
      expect(await store.readStream(stream('missing'))).toEqual([]);
    });

    it.each<[string, ExpectedRevision, 'exists' | 'missing', bigint | 'no_stream']>([
      ['no_stream on an existing stream', 'no_stream', 'exists', 0n],
      ['stream_exists on a missing stream', 'stream_exists', 'missing', 'no_stream'],
      ['an exact revision that is stale', 5n, 'exists', 0n],
      ['an exact revision on a missing stream', 0n, 'missing', 'no_stream'],
    ])(
      'rejects %s with a typed error and appends nothing',
      async (_label, expected, state, actual) => {
        const s = stream('conflict');
        if (state === 'exists') await store.append(s, [event()], { expectedRevision: 'no_stream' });
        const error = await store
          .append(s, [event()], { expectedRevision: expected })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBe(actual);
        expect(await store.readStream(s)).toHaveLength(state === 'exists' ? 1 : 0);
      },
    );

    it('accepts any and stream_exists where they hold', async () => {
      const s = stream('any');
      expect((await store.append(s, [event()], { expectedRevision: 'any' })).nextRevision).toBe(0n);
      expect((await store.append(s, [event()], { expectedRevision: 'any' })).nextRevision).toBe(1n);
      expect(
        (await store.append(s, [event()], { expectedRevision: 'stream_exists' })).nextRevision,
      ).toBe(2n);
    });

    it('lets exactly one of many concurrent writers win each revision of one stream', async () => {
      const s = stream('race');
      await store.append(s, [event()], { expectedRevision: 'no_stream' });
      for (let round = 0; round < 5; round++) {
        const [last] = (await store.readStream(s, { fromRevision: BigInt(round) })).slice(-1);
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, () =>
            store.append(s, [event()], { expectedRevision: last!.revision }),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(9);
        for (const r of lost) expect(r.reason).toBeInstanceOf(WrongExpectedRevisionError);
      }
      const events = await store.readStream(s);
      expect(events.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
    });

    it('treats re-appending a stored event id as a no-op', async () => {
      const s = stream('idempotent');
      const e = event('Once');
      const first = await store.append(s, [e], { expectedRevision: 'no_stream' });
      const again = await store.append(s, [e], { expectedRevision: 'no_stream' });
      expect(again.nextRevision).toBe(first.nextRevision);
      expect(again.position).toBe(first.position);
      const viaAny = await store.append(s, [e], { expectedRevision: 'any' });
      expect(viaAny.position).toBe(first.position);
      expect(viaAny.nextRevision).toBe(first.nextRevision);
      const concurrently = await Promise.all(
        Array.from({ length: 5 }, () => store.append(s, [e], { expectedRevision: 'no_stream' })),
      );
      for (const r of concurrently) expect(r.position).toBe(first.position);
      expect(await store.readStream(s)).toHaveLength(1);
    });

    it('reads the global log in batches, strictly after a position', async () => {
      const s = stream('batches');
      for (let i = 0; i < 5; i++)
        await store.append(s, [event('N', { i })], { expectedRevision: 'any' });
      const mine = await store.readStream(s);
      const start = mine[0]!.position;
      const after = await store.readAll({ after: start, maxCount: 2 });
      expect(after).toHaveLength(2);
      expect(after.every((e) => e.position > start)).toBe(true);
      expect(after[0]!.position < after[1]!.position).toBe(true);
      expect(await store.headPosition()).not.toBeNull();
      expect((await store.headPosition())! >= mine[4]!.position).toBe(true);
      expect(await store.countAfter(mine[2]!.position, 1000)).toBeGreaterThanOrEqual(2);
    });

    it('delivers 8 writers × 1,000 appends exactly once, in order, live and on replay', async () => {
      const writers = 8;
      const perWriter = 1000;
      const total = writers * perWriter;
      const prefix = `${fixture.streamPrefix}load-${randomUUID()}-`;
      const head = await store.headPosition();

      let subscribed!: () => void;
      const ready = new Promise<void>((resolve) => (subscribed = resolve));
      const live = collect(store, prefix, total, {
        after: head,
        started: subscribed,
        deadlineMs: 120_000,
      });
      await ready;

      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            // Each append is its own stream and transaction, so commits interleave freely.
            await store.append(`${prefix}${w}-${i}`, [event('Load', { w, i })], {
              expectedRevision: 'no_stream',
            });
          }
        }),
      );

      const received = await live;
      expect(received).toHaveLength(total);
      expect(new Set(received.map((e) => e.id)).size).toBe(total);
      for (let i = 1; i < received.length; i++)
        expect(received[i]!.position > received[i - 1]!.position).toBe(true);
      // Every writer's own appends arrive in the order it made them.
      const perWriterOrder = new Map<number, number[]>();
      for (const e of received) {
        const { w, i } = e.data as { w: number; i: number };
        perWriterOrder.set(w, [...(perWriterOrder.get(w) ?? []), i]);
      }
      for (const order of perWriterOrder.values())
        expect(order).toEqual([...order].sort((a, b) => a - b));

      const replayed = await collect(store, prefix, total, { after: head });
      expect(replayed.map((e) => e.id)).toEqual(received.map((e) => e.id));
      expect(replayed.map((e) => e.position)).toEqual(received.map((e) => e.position));
    });

    it('ends a subscription when its signal aborts', async () => {
      const controller = new AbortController();
      const head = await store.headPosition();
      const iterating = (async () => {
        let batches = 0;
        for await (const _ of store.subscribe({ after: head, signal: controller.signal }))
          batches++;
        return batches;
      })();
      await new Promise((r) => setTimeout(r, 100));
      controller.abort();
      await expect(iterating).resolves.toBeGreaterThanOrEqual(0);
    });
  });
}
