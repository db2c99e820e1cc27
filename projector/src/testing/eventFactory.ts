import { randomBytes, randomUUID } from 'node:crypto';
import { decodeEvent, encodePosition } from '@tweeter/shared';
import type {
  DecodedEvent,
  EventMetadata,
  EventOfType,
  EventStore,
  NewEvent,
  Position,
  TweeterEventType,
} from '@tweeter/shared';

/**
 * Well-formed catalogue events for tests and the benchmark, which append straight to the event
 * store (the command service is not needed to exercise the projections).
 */

/** A UUIDv7 for a given time: ids sort by time like the command service's. */
export function uuidv7(ms: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function catalogueEvent<T extends TweeterEventType>(
  type: T,
  data: EventOfType<T>['data'],
  occurredAt: string,
  actorId: string | null = null,
): NewEvent {
  const id = randomUUID();
  const metadata: EventMetadata = {
    schemaVersion: 1,
    correlationId: id,
    causationId: id,
    actorId,
    occurredAt,
  };
  return { id, type, data, metadata };
}

/**
 * Builds a log in time order: every call advances a clock by `stepMs`, so createdAt and
 * occurredAt grow like in production. Streams are not the command service's (projections do not
 * read them); events are collected in `events` and appended with `appendAll`.
 */
export class LogBuilder {
  readonly events: NewEvent[] = [];
  private usernames = 0;

  constructor(
    public now = Date.parse('2026-01-01T00:00:00.000Z'),
    private readonly stepMs = 1,
  ) {}

  private at(): string {
    this.now += this.stepMs;
    return new Date(this.now).toISOString();
  }

  private push(event: NewEvent): NewEvent {
    this.events.push(event);
    return event;
  }

  userCreated(username = `u${(this.usernames++).toString(36)}${randomBytes(3).toString('hex')}`) {
    const at = this.at();
    const userId = uuidv7(this.now);
    this.push(
      catalogueEvent(
        'UserCreated',
        {
          userId,
          username,
          displayName: username,
          bio: '',
          tokenHash: randomBytes(32).toString('hex'),
          createdAt: at,
        },
        at,
      ),
    );
    return userId;
  }

  profileUpdated(userId: string, change: { displayName?: string; bio?: string }) {
    this.push(catalogueEvent('UserProfileUpdated', { userId, ...change }, this.at(), userId));
  }

  userDeleted(userId: string) {
    this.push(catalogueEvent('UserDeleted', { userId }, this.at(), userId));
  }

  followed(followerId: string, followeeId: string) {
    this.push(catalogueEvent('Followed', { followerId, followeeId }, this.at(), followerId));
  }

  unfollowed(followerId: string, followeeId: string) {
    this.push(catalogueEvent('Unfollowed', { followerId, followeeId }, this.at(), followerId));
  }

  tweetPosted(authorId: string, text = `tweet ${randomBytes(4).toString('hex')}`) {
    const at = this.at();
    const tweetId = uuidv7(this.now);
    this.push(
      catalogueEvent('TweetPosted', { tweetId, authorId, text, createdAt: at }, at, authorId),
    );
    return tweetId;
  }

  tweetDeleted(tweetId: string, authorId: string) {
    this.push(catalogueEvent('TweetDeleted', { tweetId, authorId }, this.at(), authorId));
  }

  /** Takes the events built so far (they are appended by the caller). */
  take(): NewEvent[] {
    return this.events.splice(0);
  }
}

/** Appends `events` in order, `chunk` per append (one stream per chunk), and returns the last position. */
export async function appendAll(
  store: EventStore,
  events: NewEvent[],
  chunk = 500,
): Promise<Position | null> {
  let position: Position | null = null;
  for (let i = 0; i < events.length; i += chunk) {
    const result = await store.append(`log-${randomUUID()}`, events.slice(i, i + chunk), {
      expectedRevision: 'no_stream',
    });
    position = result.position;
  }
  return position;
}

/** Decodes built events as a subscriber would see them (unit tests: no store involved). */
export function asDecoded(events: NewEvent[]): DecodedEvent[] {
  return events.map((e, i) => {
    const decoded = decodeEvent({
      ...e,
      streamId: 'test',
      revision: BigInt(i),
      position: encodePosition(1n, BigInt(i + 1)),
      recordedAt: new Date(),
    });
    if (!decoded) throw new Error(`not a catalogue event: ${e.type}`);
    return decoded;
  });
}

/**
 * Waits until the log's readers can see `position`. Appends become visible once every older
 * transaction in the cluster has ended (the event store's horizon), so a busy shared server can
 * lag a moment behind an append that has already returned.
 */
export async function waitUntilVisible(
  store: EventStore,
  position: Position | null,
): Promise<void> {
  if (position === null) return;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const head = await store.headPosition();
    if (head !== null && head >= position) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`position ${position} did not become visible within 30 s`);
}
