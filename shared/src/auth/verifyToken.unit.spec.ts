import { describe, expect, it } from 'vitest';
import { Problem } from '../http/problems.ts';
import { hashToken, issueToken } from './tokens.ts';
import type { ReadStreamOptions, RecordedEvent } from '../eventStore/port.ts';
import {
  authenticateBearer,
  bearerCredentials,
  FirstEvents,
  readUserStreamEnds,
  tokenGrantOf,
  userStreamId,
  verifyToken,
} from './verifyToken.ts';

const userId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const token = issueToken(userId);
const created = {
  type: 'UserCreated',
  data: { userId, username: 'ada', tokenHash: hashToken(token) },
};
const deleted = { type: 'UserDeleted', data: { userId } };
const abandoned = { type: 'UserRegistrationAbandoned', data: { userId } };

/** A reader over fixed streams that records which user ids it was asked for. */
function reader(streams: Record<string, { type: string; data: unknown }[]>) {
  const asked: string[] = [];
  const read = (id: string) => {
    asked.push(id);
    return Promise.resolve(streams[userStreamId(id)] ?? []);
  };
  return { read, asked };
}

const refusal = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Problem);
  return error as Problem;
};

describe('the user stream and the token rule', () => {
  it('names the user stream user-<id>', () => expect(userStreamId(userId)).toBe(`user-${userId}`));

  it('grants the token of UserCreated until UserDeleted, for good', () => {
    expect(tokenGrantOf(userId, [created])).toEqual({
      id: userId,
      username: 'ada',
      tokenHash: hashToken(token),
    });
    expect(tokenGrantOf(userId, [])).toBeNull();
    expect(tokenGrantOf(userId, [abandoned])).toBeNull();
    expect(tokenGrantOf(userId, [created, deleted])).toBeNull();
    expect(tokenGrantOf(userId, [created, deleted, created])).toBeNull();
  });

  it('reads the stream of the user the token names, and passes only its own token', async () => {
    const { read, asked } = reader({ [userStreamId(userId)]: [created] });
    expect(await verifyToken(token, read)).toEqual({
      user: { id: userId, username: 'ada' },
      events: [created],
    });
    expect(asked).toEqual([userId]);
    expect(await verifyToken(issueToken(userId), read)).toBeNull();
    expect(await verifyToken('garbage', read)).toBeNull();
    expect(asked).toHaveLength(2); // a malformed token reads nothing
  });

  it('refuses over HTTP with 401 and WWW-Authenticate', async () => {
    const { read } = reader({ [userStreamId(userId)]: [created, deleted] });
    for (const header of [undefined, 'Bearer', 'Bearer nonsense', `Basic ${token}`]) {
      expect(() => bearerCredentials(header)).toThrow(Problem);
      const problem = await refusal(authenticateBearer(header, read));
      expect([problem.status, problem.extras.headers]).toEqual([
        401,
        { 'WWW-Authenticate': 'Bearer' },
      ]);
    }
    expect(bearerCredentials(`Bearer ${token}`)).toEqual({ token, userId });
    const deletedUser = await refusal(authenticateBearer(`Bearer ${token}`, read));
    expect([deletedUser.status, deletedUser.detail]).toEqual([
      401,
      'The bearer token is not valid',
    ]);
  });
});

describe('reading the ends of a user stream', () => {
  const recorded = (type: string, revision: bigint) =>
    ({ type, data: {}, revision }) as unknown as RecordedEvent;

  it('reads the first and the newest event, and the first only once when it is kept', async () => {
    const stream = [recorded('UserCreated', 0n), recorded('TweetPosted', 1n)];
    const reads: string[] = [];
    const store = {
      readStream: (_id: string, options?: ReadStreamOptions) => {
        reads.push(options?.direction ?? 'forwards');
        return Promise.resolve(
          options?.direction === 'backwards' ? stream.slice(-1).reverse() : stream.slice(0, 1),
        );
      },
    };
    const firstEvents = new FirstEvents();
    expect((await readUserStreamEnds(store, userId, firstEvents)).map((e) => e.type)).toEqual([
      'UserCreated',
      'TweetPosted',
    ]);
    stream.push(recorded('UserDeleted', 2n));
    expect((await readUserStreamEnds(store, userId, firstEvents)).map((e) => e.type)).toEqual([
      'UserCreated',
      'UserDeleted',
    ]);
    expect(reads).toEqual(['forwards', 'backwards', 'backwards']);
    // A stream of one event is that event once; no stream is nothing (and nothing is kept).
    expect(
      await readUserStreamEnds({ readStream: () => Promise.resolve([]) }, 'nobody', firstEvents),
    ).toEqual([]);
    expect(firstEvents.get('nobody')).toBeUndefined();
  });
});
