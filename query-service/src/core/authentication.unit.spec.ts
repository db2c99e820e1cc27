import {
  tokenGrantOf,
  type EventStore,
  type ReadStreamOptions,
  type RecordedEvent,
} from '@tweeter/shared';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from './authentication.ts';

/**
 * A user stream whose reads see the stream as it was when they began, and end when the test says
 * so: it controls what overlaps what. A check reads the stream's first event (which never changes,
 * answered at once) and its last: `reads` are those reads of the last event.
 */
function controlledStore() {
  const stream: { type: string; data: unknown }[] = [];
  const reads: { finish: () => void }[] = [];
  const recorded = () =>
    stream.map((event, i) => ({ ...event, revision: BigInt(i) })) as unknown as RecordedEvent[];
  const store = {
    readStream: (_streamId: string, options?: ReadStreamOptions) =>
      new Promise<RecordedEvent[]>((resolve) => {
        const seen = recorded();
        if (options?.direction !== 'backwards') resolve(seen.slice(0, 1));
        else reads.push({ finish: () => resolve(seen.slice(-1)) });
      }),
  } as unknown as EventStore;
  return { store, stream, reads };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The hash of the token the user's stream accepts, as one coalesced read saw it (shared rule). */
const grantedHash = (verifier: TokenVerifier, userId: string) =>
  verifier.readUserStream(userId).then((events) => tokenGrantOf(userId, events)?.tokenHash ?? null);

const created = (tokenHash: string) => ({
  type: 'UserCreated',
  data: { userId: 'u', username: 'u', tokenHash },
});

describe('token verification', () => {
  it('never answers a request with a stream read that began before it arrived', async () => {
    const { store, stream, reads } = controlledStore();
    const verifier = new TokenVerifier(store);
    stream.push(created('h1'));
    const first = grantedHash(verifier, 'u');
    // The user is deleted while the first read is under way; requests from now on must see it.
    stream.push({ type: 'UserDeleted', data: {} });
    const second = grantedHash(verifier, 'u');
    const third = grantedHash(verifier, 'u');
    expect(reads).toHaveLength(1); // they wait for the next read instead of sharing this one
    reads[0]!.finish();
    expect(await first).toBe('h1');
    await tick();
    expect(reads).toHaveLength(2);
    reads[1]!.finish();
    expect(await second).toBeNull();
    expect(await third).toBeNull();
  });

  it('reads once per round for everyone waiting, and not at all when idle', async () => {
    const { store, stream, reads } = controlledStore();
    const verifier = new TokenVerifier(store);
    stream.push(created('h'));
    const waiting = [grantedHash(verifier, 'u'), grantedHash(verifier, 'u')];
    const more = Array.from({ length: 10 }, () => grantedHash(verifier, 'u'));
    reads[0]!.finish();
    await tick();
    expect(reads).toHaveLength(2);
    reads[1]!.finish();
    expect(await Promise.all([...waiting, ...more])).toEqual(Array(12).fill('h'));
    await tick();
    expect(reads).toHaveLength(2);
  });
});
