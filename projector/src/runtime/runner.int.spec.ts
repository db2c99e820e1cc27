import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { PostgresEventStore, type DecodedEvent, type Position } from '@tweeter/shared';
import { createTestDatabase, type TestDatabase } from '@tweeter/shared/testing';
import { appendAll, LogBuilder } from '../testing/eventFactory.ts';
import type { ProjectionName } from '../registry.ts';
import { CheckpointMovedError, type Projection } from './projection.ts';
import { ProjectionRunner } from './runner.ts';

let database: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await PostgresEventStore.connect({ url: database.url, pollIntervalMs: 50 });
});
afterAll(async () => {
  await store.close();
  await database.drop();
});

/** A projection kept in memory, failing on the events `fails` picks. */
class MemoryProjection implements Projection {
  stored: Position | null = null;
  readonly seen: string[] = [];
  constructor(
    readonly name: ProjectionName,
    readonly copy: string,
    private readonly fails: (e: DecodedEvent) => boolean = () => false,
  ) {}
  setup = () => Promise.resolve();
  checkpoint = () => Promise.resolve(this.stored);
  apply(events: DecodedEvent[], upTo: Position, from: Position | null): Promise<void> {
    if (from !== this.stored) throw new CheckpointMovedError(this.name, from, this.stored);
    if (events.some(this.fails)) return Promise.reject(new Error('handler bug'));
    this.seen.push(...events.map((e) => e.id));
    this.stored = upTo;
    return Promise.resolve();
  }
  reset = () => Promise.resolve();
  close = () => Promise.resolve();
}

describe('projection runner', () => {
  it('stops a projection at the failing event, never skipping it, while another goes on', async () => {
    const log = new LogBuilder();
    const a = log.userCreated();
    for (let i = 0; i < 20; i++) log.tweetPosted(a, i === 13 ? 'poison' : `t${i}`);
    const events = log.take();
    await appendAll(store, events, 5);
    const poison = events[14]!.id;
    const failing = new MemoryProjection('timelines', 'test-a', (e) => e.id === poison);
    const healthy = new MemoryProjection('read-model', 'test-b');
    const logger = pino({ level: 'silent' });
    const runners = [failing, healthy].map(
      (projection) =>
        new ProjectionRunner({
          projection,
          eventStore: store,
          databaseUrl: database.url,
          logger,
          batchSize: 8,
          lockPollMs: 100,
        }),
    );
    for (const r of runners) r.start();
    const deadline = Date.now() + 10_000;
    while (
      Date.now() < deadline &&
      (runners[0]!.status().state !== 'failed' || healthy.seen.length < 21)
    )
      await new Promise((r) => setTimeout(r, 50));
    const status = runners[0]!.status();
    expect(status.state).toBe('failed');
    expect(status.lastError).toContain(poison);
    expect(failing.seen).toEqual(events.slice(0, 14).map((e) => e.id)); // up to, not past, the poison
    expect(healthy.seen).toHaveLength(21);
    expect(runners[1]!.status().state).toBe('running');
    await Promise.all(runners.map((r) => r.stop()));
  });

  it('a second runner of the same copy stands by until the first lets go', async () => {
    const logger = pino({ level: 'silent' });
    const p1 = new MemoryProjection('read-model', 'shared-copy');
    const p2 = new MemoryProjection('read-model', 'shared-copy');
    const options = {
      eventStore: store,
      databaseUrl: database.url,
      logger,
      batchSize: 8,
      lockPollMs: 100,
    };
    const first = new ProjectionRunner({ ...options, projection: p1 });
    const second = new ProjectionRunner({ ...options, projection: p2 });
    first.start();
    await new Promise((r) => setTimeout(r, 300));
    second.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(first.status().state).toBe('running');
    expect(second.status().state).toBe('standby');
    await first.stop();
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && second.status().state !== 'running')
      await new Promise((r) => setTimeout(r, 50));
    expect(second.status().state).toBe('running');
    await second.stop();
  });
});
