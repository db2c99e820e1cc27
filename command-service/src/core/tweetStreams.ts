import {
  userStreamId,
  type EventMetadata,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '@tweeter/shared';
import {
  tweetAuthorRecordedSchema,
  tweetFoldOf,
  type TweetAuthorRecorded,
  type TweetState,
} from '../domain/tweets/tweet.ts';
import { foldEvents, scanBackwards, type StreamState } from './commandHandling.ts';
import { toNewEvents } from './events.ts';
import { tweetStreamId } from './streams.ts';

/**
 * Where a tweet's events live. A tweet is posted into its author's stream (`user-<id>`), so that
 * the append expects the revision of the author it was decided on: a post racing the author's
 * deletion either lands before UserDeleted or is refused (and appends nothing), never after it.
 * Once it has landed, the tweet's own stream (`tweet-<id>`) gets TweetAuthorRecorded, which leads
 * from the id to the author. Tweets from before this layout have TweetPosted (and TweetDeleted)
 * in their own stream.
 */
export type TweetRecord =
  { layout: 'author-stream'; authorId: string } | { layout: 'own-stream' } | { layout: 'none' };

export async function readTweetRecord(
  eventStore: Pick<EventStore, 'readStream'>,
  tweetId: string,
): Promise<TweetRecord> {
  const [first] = await eventStore.readStream(tweetStreamId(tweetId), { maxCount: 1 });
  if (first === undefined) return { layout: 'none' };
  if (first.type !== 'TweetAuthorRecorded') return { layout: 'own-stream' };
  return {
    layout: 'author-stream',
    authorId: tweetAuthorRecordedSchema.parse(first.data).authorId,
  };
}

/** Appends TweetAuthorRecorded once (a repeat with the same derived id appends nothing). */
export async function recordTweetAuthor(
  eventStore: EventStore,
  tweet: { tweetId: string; authorId: string },
  metadata: EventMetadata,
  eventId: string,
): Promise<void> {
  const event: TweetAuthorRecorded = { type: 'TweetAuthorRecorded', data: tweet };
  await eventStore.append(
    tweetStreamId(tweet.tweetId),
    toNewEvents([event], metadata, () => eventId),
    {
      expectedRevision: 'no_stream',
    },
  );
}

/** Where a scan of the author's stream may stop looking: nothing of the tweet lies below it. */
export interface ScanFloor {
  /** Events before this position (an idempotency key's record) cannot be the tweet's. */
  position?: Position;
  /**
   * Events recorded before this cannot be the tweet's: its id's time, less a margin for the
   * command service's clock and the database's (`recorded_at` is the database's).
   */
  recordedAt?: Date;
  /** A fresh tweet id, in no stream yet: only the newest event (the revision, a deletion). */
  headOnly?: boolean;
}

/**
 * One tweet as its author's stream holds it: the stream read backwards from its newest event down
 * to the tweet's TweetPosted (or to `floor`), so a recent tweet costs a page. The state expects
 * the stream's newest revision; `postedAt` is where TweetPosted is, when it is there.
 */
export async function readTweetInAuthorStream(
  eventStore: Pick<EventStore, 'readStream'>,
  tweet: { tweetId: string; authorId: string },
  floor: ScanFloor = {},
): Promise<StreamState<TweetState> & { postedAt: Position | null }> {
  const scanned: RecordedEvent[] = [];
  let postedAt: Position | null = null;
  const stop = (event: RecordedEvent) => {
    if (floor.headOnly === true) return true;
    if (floor.position !== undefined && event.position < floor.position) return true;
    if (floor.recordedAt !== undefined && event.recordedAt < floor.recordedAt) return true;
    scanned.push(event);
    if (
      event.type === 'TweetPosted' &&
      (event.data as { tweetId?: unknown } | null)?.tweetId === tweet.tweetId
    )
      postedAt = event.position;
    return postedAt !== null;
  };
  const pageSize = floor.headOnly === true ? 1 : 100;
  const { head } = await scanBackwards(eventStore, userStreamId(tweet.authorId), stop, pageSize);
  const folded = foldEvents(scanned.reverse(), tweetFoldOf(tweet.tweetId, 'active'));
  // The author existed (its user stream does); nothing follows a UserDeleted, so the newest event
  // says whether it still is active. No stream at all: no author.
  const actor = head === undefined ? 'unknown' : head.type === 'UserDeleted' ? 'deleted' : 'active';
  const state: TweetState = { ...folded, actor };
  return { state, expectedRevision: head?.revision ?? 'no_stream', postedAt };
}

/**
 * The time a UUIDv7 (the ids this service gives tweets) was made, less `marginMs` for clocks that
 * disagree; null for an id of another kind.
 */
export function timeOfId(id: string, marginMs = 10 * 60_000): Date | null {
  const hex = id.replaceAll('-', '');
  if (!/^[0-9a-f]{12}7/i.test(hex)) return null;
  return new Date(Number.parseInt(hex.slice(0, 12), 16) - marginMs);
}
