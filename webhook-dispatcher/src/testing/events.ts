import { natsNames, type NatsConnection } from '@tweeter/shared';
import { nanos } from 'nats';
import { v7 as uuidv7 } from 'uuid';

/**
 * The integration-events stream as the projector creates it (docs/projections.md), for tests that
 * publish events themselves.
 */
export async function ensureEventStream(nc: NatsConnection, natsPrefix: string): Promise<void> {
  const { stream, subjectPrefix } = natsNames(natsPrefix);
  const jsm = await nc.jetstreamManager();
  try {
    await jsm.streams.info(stream);
  } catch {
    await jsm.streams.add({
      name: stream,
      subjects: [`${subjectPrefix}.>`],
      duplicate_window: nanos(10 * 60_000),
    });
  }
}

export async function deleteEventStream(nc: NatsConnection, natsPrefix: string) {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(natsNames(natsPrefix).stream).catch(() => undefined);
}

export interface TestEvent {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** An integration event as the projector publishes it, its id and time fresh. */
const testEvent = (
  type: string,
  actorId: string,
  data: (occurredAt: string) => TestEvent['data'],
): TestEvent => {
  const id = uuidv7();
  const occurredAt = new Date().toISOString();
  return {
    id,
    type,
    occurredAt,
    data: data(occurredAt),
    metadata: { schemaVersion: 1, correlationId: id, causationId: id, actorId, occurredAt },
  };
};

export const tweetPosted = (authorId: string, text = 'hello'): TestEvent =>
  testEvent('tweet.posted', authorId, (createdAt) => ({
    tweetId: uuidv7(),
    authorId,
    text,
    createdAt,
  }));

export const followed = (followerId: string, followeeId: string): TestEvent =>
  testEvent('user.followed', followerId, () => ({ followerId, followeeId }));

/** Publishes exactly as the integration-events projection does: subject, Nats-Msg-Id, payload. */
export async function publishEvent(nc: NatsConnection, natsPrefix: string, event: TestEvent) {
  const { subjectPrefix } = natsNames(natsPrefix);
  return nc
    .jetstream()
    .publish(`${subjectPrefix}.${event.type}`, JSON.stringify(event), { msgID: event.id });
}
