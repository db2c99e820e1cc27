import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { pino } from 'pino';
import {
  createKysely,
  decodeEvent,
  ensureActiveCopies,
  natsNames,
  type DecodedEvent,
} from '@tweeter/shared';
import { testNatsUrl } from '@tweeter/shared/testing';
import { defaultCopies } from '../registry.ts';
import { appendAll, LogBuilder, waitUntilVisible } from '../testing/eventFactory.ts';
import { useProjectorTestEnv } from '../testing/projectorTestEnv.ts';
import { IntegrationEventsProjection } from './integrationEventsProjection.ts';

const fixture = useProjectorTestEnv();
const prefix = fixture.natsPrefix;
const names = natsNames(prefix);
let nc: NatsConnection;

beforeAll(async () => {
  await ensureActiveCopies(createKysely(fixture.pool), defaultCopies);
  nc = await connect({ servers: testNatsUrl().replace('nats://', '') });
});

afterAll(async () => {
  await nc.close();
});

describe('integration-events on NATS JetStream', () => {
  it('creates the stream, publishes public payloads, and a batch published twice arrives once', async () => {
    const { store, pool } = fixture;
    const projection = new IntegrationEventsProjection({
      natsUrl: testNatsUrl(),
      natsPrefix: prefix,
      pool,
      logger: pino({ level: 'silent' }),
    });
    await projection.setup();
    const log = new LogBuilder();
    const a = log.userCreated('alice');
    const b = log.userCreated('bob');
    log.followed(b, a);
    const t = log.tweetPosted(a, 'hello');
    log.tweetDeleted(t, a);
    await waitUntilVisible(store, await appendAll(store, log.take()));
    const recorded = await store.readAll({ maxCount: 100 });
    const events = recorded.map(decodeEvent).filter((e): e is DecodedEvent => e !== null);
    const upTo = recorded[recorded.length - 1]!.position;

    await projection.apply(events, upTo, null);
    // A crash between the acks and the checkpoint: the same batch again (the checkpoint moved, so
    // the second apply refuses, but only after publishing again).
    await expect(projection.apply(events, upTo, null)).rejects.toThrow(/checkpoint moved/);
    expect(await projection.checkpoint()).toBe(upTo);

    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(names.stream);
    expect(info.config.subjects).toEqual([`${names.subjectPrefix}.>`]);
    expect(info.state.messages).toBe(events.length);
    const first = await jsm.streams.getMessage(names.stream, { seq: 1 });
    expect(first.subject).toBe(`${names.subjectPrefix}.user.created`);
    expect(first.header.get('Nats-Msg-Id')).toBe(events[0]!.id);
    const payload = first.json<Record<string, unknown>>();
    expect(payload).toMatchObject({ id: events[0]!.id, type: 'user.created' });
    expect(payload.data).not.toHaveProperty('tokenHash');
    expect(payload.data).toMatchObject({ userId: a, username: 'alice' });
    const last = await jsm.streams.getMessage(names.stream, { seq: events.length });
    expect(last.subject).toBe(`${names.subjectPrefix}.tweet.deleted`);
    await projection.close();
  });

  it('waits while NATS is unreachable and reports it as transient', async () => {
    const { pool } = fixture;
    const projection = new IntegrationEventsProjection({
      natsUrl: 'nats://127.0.0.1:1', // nothing listens there
      natsPrefix: prefix,
      pool,
      logger: pino({ level: 'silent' }),
    });
    const { isTransient } = await import('../runtime/transientErrors.ts');
    const error = await projection.setup().catch((e: unknown) => e);
    expect(isTransient(error)).toBe(true);
    await projection.close();
  });
});
