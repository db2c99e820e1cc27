import {
  readUserStreamEnds,
  tokenGrantOf,
  userStreamId,
  type EventStore,
  type RecordedEvent,
} from '@tweeter/shared';
import { LRUCache } from 'lru-cache';
import { readWholeStream } from './commandHandling.ts';

/** Who is acting, as the token check and the commands see it. */
export interface ActingUser {
  id: string;
  username: string;
  /** The hash of the one token the user was granted (UserCreated's). */
  tokenHash: string;
}

/**
 * What the command service knows of a user's stream: an active user as of a revision of its
 * stream (what an append decided on it expects), or a deleted one (for good, so never re-read).
 */
export type ActorState =
  | { status: 'active'; user: ActingUser; revision: bigint }
  | { status: 'deleted' }
  | { status: 'none' };

/**
 * Folds events of `userId`'s stream onto what was known: its ends (first and last event) when
 * nothing was, or the events after the known revision. Only UserCreated (the token it grants, by
 * the shared rule) and UserDeleted (its end) change who acts; every other event (profile changes,
 * tweets) only moves the revision.
 */
export function evolveActor(
  userId: string,
  known: ActorState,
  events: readonly RecordedEvent[],
): ActorState {
  let state = known;
  for (const event of events) {
    if (state.status === 'deleted') return state;
    const grant = event.type === 'UserCreated' ? tokenGrantOf(userId, [event]) : null;
    if (grant !== null) {
      const user = { id: grant.id, username: grant.username, tokenHash: grant.tokenHash };
      state = { status: 'active', user, revision: event.revision };
    } else if (event.type === 'UserDeleted') {
      state = { status: 'deleted' };
    } else if (state.status === 'active') {
      state = { ...state, revision: event.revision };
    }
  }
  return state;
}

/**
 * The acting users this process has seen, so that a post costs an append and no read: a post is
 * decided on the cached state and appended to the author's stream expecting the cached revision.
 * A stale state cannot do harm there: if the stream moved on (another post, a profile change, a
 * deletion), the append fails and the command reads what changed and decides again. Commands
 * whose appends go to other streams use `current`, which reads the events after the cached
 * revision (usually none) first.
 *
 * Bounded: the least recently used users are forgotten beyond `capacity`.
 */
export class ActorStates {
  private readonly known: LRUCache<string, ActorState>;
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(
    private readonly eventStore: Pick<EventStore, 'readStream'>,
    capacity = 100_000,
  ) {
    this.known = new LRUCache({ max: capacity });
  }

  /** The state as cached (possibly behind the stream), or read when not cached. */
  async cached(userId: string): Promise<ActorState> {
    return this.known.get(userId) ?? this.current(userId);
  }

  /** The state as the stream holds it now. */
  async current(userId: string): Promise<ActorState> {
    const known = this.known.get(userId);
    let state: ActorState;
    if (known?.status === 'deleted') {
      state = known;
    } else if (known?.status === 'active') {
      const after = { fromRevision: known.revision + 1n };
      state = evolveActor(
        userId,
        known,
        await readWholeStream(this.eventStore, userStreamId(userId), after),
      );
    } else {
      const ends = await readUserStreamEnds(this.eventStore, userId);
      state = evolveActor(userId, { status: 'none' }, ends);
    }
    if (state.status === 'none') this.known.delete(userId);
    else this.known.set(userId, state);
    return state;
  }

  /** After an append to the user's stream that expected the known revision: the new one. */
  advance(userId: string, revision: bigint): void {
    const known = this.known.get(userId);
    if (known?.status === 'active' && known.revision < revision)
      this.known.set(userId, { ...known, revision });
  }

  /** After an append whose outcome is unknown (a timeout): read again next time. */
  forget(userId: string): void {
    this.known.delete(userId);
  }

  /**
   * Runs `work` for one user at a time in this process: a user's own concurrent posts then take
   * turns on the stream's revision instead of failing each other's appends.
   */
  inTurn<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(userId) ?? Promise.resolve();
    const mine = previous.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(userId, settled);
    void settled.then(() => {
      if (this.turns.get(userId) === settled) this.turns.delete(userId);
    });
    return mine;
  }
}
