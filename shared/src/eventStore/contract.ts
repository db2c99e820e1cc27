import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDependencyFailure } from '../http/app.ts';
import {
  DuplicateEventIdError,
  encodePosition,
  PositionFromAnotherStoreError,
  StreamDeletedError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type RecordedEvent,
  comparePositions,
} from './port.ts';

export interface ContractFixture {
  store: EventStore;
  /** Streams of this run start with it; events of other streams (other runs on a shared server) are ignored. */
  streamPrefix: string;
  /** Another store instance on the same data: a restarted process (closed by `dispose`). */
  reopen(): Promise<EventStore>;
  /** Deletes a stream for good, where the store can (EventStoreDB's tombstone); absent otherwise. */
  tombstone?: (streamId: string) => Promise<void>;
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
      const appendedFrom = Date.now();
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
      // The time of the append, to the ms, on either side of a clock skew of a few seconds.
      for (const e of events) {
        expect(Number.isInteger(e.recordedAt.getTime())).toBe(true);
        expect(Math.abs(e.recordedAt.getTime() - appendedFrom)).toBeLessThan(10_000);
      }
      expect(await store.readStream(s, { fromRevision: 2n })).toHaveLength(1);
      expect(await store.readStream(stream('missing'))).toEqual([]);
      const newest = await store.readStream(s, { direction: 'backwards', maxCount: 2 });
      expect(newest.map((e) => [e.type, e.revision])).toEqual([
        ['C', 2n],
        ['B', 1n],
      ]);
      expect(newest[0]!.position).toBe(second.position);
      const below = await store.readStream(s, { direction: 'backwards', fromRevision: 1n });
      expect(below.map((e) => e.revision)).toEqual([1n, 0n]);
      expect(await store.readStream(stream('missing'), { direction: 'backwards' })).toEqual([]);
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

    const sameResult = (a: AppendResult, b: AppendResult) => {
      expect(a.position).toBe(b.position);
      expect(a.nextRevision).toBe(b.nextRevision);
    };

    it('answers a repeated no_stream or exact-revision append as the first one, after a restart too', async () => {
      const s = stream('idempotent');
      const [a, b, c, d] = [event('A'), event('B'), event('C'), event('D')];
      const first = await store.append(s, [a], { expectedRevision: 'no_stream' });
      sameResult(await store.append(s, [a], { expectedRevision: 'no_stream' }), first);
      const second = await store.append(s, [b, c], { expectedRevision: 0n });
      // A new store instance: the process restarted between the append and its repeat.
      const restarted = await fixture.reopen();
      sameResult(await restarted.append(s, [a], { expectedRevision: 'no_stream' }), first);
      sameResult(await restarted.append(s, [b, c], { expectedRevision: 0n }), second);
      const third = await restarted.append(s, [d], { expectedRevision: 2n });
      sameResult(await store.append(s, [d], { expectedRevision: 2n }), third);
      expect((await store.readStream(s)).map((e) => e.id)).toEqual([a.id, b.id, c.id, d.id]);
    });

    it('lets concurrent repeats of an append store it once; each answers it or fails retryably', async () => {
      const s = stream('concurrent-repeats');
      const e = event('Once');
      const attempt = () => store.append(s, [e], { expectedRevision: 'no_stream' });
      const results = await Promise.allSettled(Array.from({ length: 8 }, attempt));
      // EventStoreDB may time a duplicate out while the original is not indexed yet: a dependency
      // failure, whose retry is then answered as the first append.
      for (const r of results)
        if (r.status === 'rejected') expect(isDependencyFailure(r.reason)).toBe(true);
      const stored = await store.readStream(s);
      expect(stored.map((x) => x.id)).toEqual([e.id]);
      const retried = await attempt();
      expect(retried.position).toBe(stored[0]!.position);
      for (const r of results) if (r.status === 'fulfilled') sameResult(r.value, retried);
    });

    /** What an append of ids stored already (outside the guarantee) may do: store or refuse, never pretend. */
    const expectHonest = async (
      s: string,
      e: NewEvent,
      outcome: PromiseSettledResult<AppendResult>,
      before: RecordedEvent[],
    ) => {
      const after = await store.readStream(s);
      if (outcome.status === 'rejected') {
        expect(
          outcome.reason instanceof DuplicateEventIdError ||
            outcome.reason instanceof WrongExpectedRevisionError,
        ).toBe(true);
        expect(after).toEqual(before);
        return;
      }
      const { position, nextRevision } = outcome.value;
      const at = after.find((x) => x.revision === nextRevision);
      expect(at?.id).toBe(e.id);
      expect(at?.position).toBe(position);
    };

    it('never reports an id stored in another stream as appended to this one', async () => {
      const [s, other] = [stream('dup-a'), stream('dup-b')];
      const e = event('Elsewhere');
      await store.append(s, [e], { expectedRevision: 'no_stream' });
      const outcome = await store.append(other, [e], { expectedRevision: 'no_stream' }).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      );
      await expectHonest(other, e, outcome, []);
      expect(await store.readStream(s)).toHaveLength(1);
    });

    it.each<[string, (current: bigint) => ExpectedRevision]>([
      ['an exact revision equal to the current one', (current) => current],
      ['any', () => 'any'],
      ['stream_exists', () => 'stream_exists'],
    ])('handles a stored id re-appended under %s honestly', async (_label, expectation) => {
      const s = stream('dup-same');
      const e = event('Again');
      const first = await store.append(s, [e], { expectedRevision: 'no_stream' });
      const before = await store.readStream(s);
      const outcome = await store
        .append(s, [e], { expectedRevision: expectation(first.nextRevision) })
        .then(
          (value) => ({ status: 'fulfilled', value }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        );
      await expectHonest(s, e, outcome, before);
    });

    it('reads empty metadata back as null, everywhere', async () => {
      const s = stream('metadata');
      const head = await store.headPosition();
      const none = { ...event('NoMeta'), metadata: null };
      const missing = { ...event('Missing'), metadata: undefined };
      const empty = { ...event('Empty'), metadata: {} };
      const appended = await store.append(s, [none, missing, empty], {
        expectedRevision: 'no_stream',
      });
      const expected = [null, null, {}];
      expect((await store.readStream(s)).map((e) => e.metadata)).toEqual(expected);
      const viaSubscription = await collect(store, s, 3, { after: head });
      expect(viaSubscription.map((e) => e.metadata)).toEqual(expected);
      expect(viaSubscription.at(-1)!.position).toBe(appended.position);
      const viaAll = (await store.readAll({ after: head, maxCount: 10_000 })).filter(
        (e) => e.streamId === s,
      );
      expect(viaAll.map((e) => e.metadata)).toEqual(expected);
    });

    it('refuses positions made by the other kind of store', async () => {
      const foreign = encodePosition(
        1n,
        1n,
        store.kind === 'postgres' ? 'eventstoredb' : 'postgres',
      );
      await expect(store.readAll({ after: foreign, maxCount: 1 })).rejects.toBeInstanceOf(
        PositionFromAnotherStoreError,
      );
      await expect(store.countAfter(foreign)).rejects.toBeInstanceOf(PositionFromAnotherStoreError);
      await expect(store.estimatedLag(foreign)).rejects.toBeInstanceOf(
        PositionFromAnotherStoreError,
      );
      await expect(
        (async () => {
          for await (const _ of store.subscribe({ after: foreign })) break;
        })(),
      ).rejects.toThrow(/rebuild the projections/);
      const own = await store.append(stream('kind'), [event()], { expectedRevision: 'no_stream' });
      expect(own.position.startsWith('esdb:')).toBe(store.kind === 'eventstoredb');
    });

    it('answers reads and appends of a deleted stream with StreamDeletedError', async (ctx) => {
      if (!fixture.tombstone) {
        console.warn(
          `[event store contract] ${name}: no hard delete, so the deleted-stream case is skipped`,
        );
        ctx.skip(`${name} has no hard-deleted streams`);
      }
      const s = stream('deleted');
      await store.append(s, [event()], { expectedRevision: 'no_stream' });
      await fixture.tombstone!(s);
      await expect(store.readStream(s)).rejects.toBeInstanceOf(StreamDeletedError);
      await expect(store.append(s, [event()], { expectedRevision: 'any' })).rejects.toBeInstanceOf(
        StreamDeletedError,
      );
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
      expect(await store.estimatedLag(mine[2]!.position)).toBeGreaterThanOrEqual(1);
      expect(await store.estimatedLag(null)).toBeGreaterThanOrEqual(5);
      expect(await store.estimatedLag(await store.headPosition())).toBe(0);
    });

    it('returns full batches until the end of the log, whose last event is the head', async () => {
      const s = stream('full-batches');
      for (let i = 0; i < 7; i++)
        await store.append(s, [event('N', { i })], { expectedRevision: 'any' });
      const [first] = await store.readStream(s);
      let after: Position | null = first!.position;
      let last: RecordedEvent | undefined;
      for (;;) {
        const batch = await store.readAll({ after, maxCount: 3 });
        if (batch.length < 3) {
          last = batch.at(-1) ?? last;
          break;
        }
        last = batch.at(-1);
        after = last!.position;
      }
      // A short batch only at the end: its last event (or the one before it) is the head then.
      expect(comparePositions(last!.position, await store.headPosition())).toBeLessThanOrEqual(0);
      expect(last!.position >= (await store.readStream(s)).at(-1)!.position).toBe(true);
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
