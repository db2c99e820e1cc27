import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allEvents,
  apiClient,
  signUp,
  startCommandService,
  type ApiResponse,
  type CommandServiceUnderTest,
} from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
/** A second instance on the same store: its cached author states go stale behind the first's. */
let other: CommandServiceUnderTest;
let callOther: ReturnType<typeof apiClient>;
beforeAll(async () => {
  other = await startCommandService({
    databaseUrl: fixture.database.url,
    redisPrefix: fixture.redisPrefix,
  });
  callOther = apiClient(other.baseUrl);
});
afterAll(() => other.close());

const postsPerTrial = 27;
const trials = 4;

describe('deleting a user while that user posts', () => {
  it('never appends a post after its author’s UserDeleted, and every 202 is in the log', async () => {
    const statuses = new Set<number>();
    for (let trial = 0; trial < trials; trial++) {
      const author = await signUp(fixture.call);
      // Both instances know the author (a cached state, as a busy author has).
      for (const call of [fixture.call, callOther])
        expect(
          (await call('POST', '/tweets', { token: author.token, body: { text: 'warm' } })).status,
        ).toBe(202);

      const posts: Promise<ApiResponse>[] = [];
      let deletion: Promise<ApiResponse> | undefined;
      for (let i = 0; i < postsPerTrial; i++) {
        const call = i % 2 === 0 ? fixture.call : callOther;
        posts.push(call('POST', '/tweets', { token: author.token, body: { text: `post ${i}` } }));
        // The deletion goes out in the middle of the burst, on one of the two instances.
        if (i === Math.floor(postsPerTrial / 3) + trial)
          deletion = (trial % 2 === 0 ? fixture.call : callOther)('DELETE', `/users/${author.id}`, {
            token: author.token,
          });
      }
      const answers = await Promise.all(posts);
      expect((await deletion!).status).toBe(204);

      const log = await allEvents(fixture.service.eventStore);
      const deletedAt = log.findIndex(
        (e) => e.type === 'UserDeleted' && (e.data as { userId: string }).userId === author.id,
      );
      expect(deletedAt).toBeGreaterThan(0);
      const posted = new Set(
        log
          .filter((e) => e.type === 'TweetPosted')
          .map((e) => (e.data as { tweetId: string }).tweetId),
      );
      const authoredAfter = log
        .slice(deletedAt + 1)
        .filter(
          (e) =>
            (e.metadata as { actorId?: unknown } | null)?.actorId === author.id ||
            (e.data as { authorId?: unknown } | null)?.authorId === author.id,
        );
      // A tweet's author record goes to its own stream after the tweet has landed, so it may follow
      // a deletion that raced it; it is internal, and only ever for a tweet posted before.
      const postedBefore = new Set(
        log
          .slice(0, deletedAt)
          .filter((e) => e.type === 'TweetPosted')
          .map((e) => (e.data as { tweetId: string }).tweetId),
      );
      for (const record of authoredAfter.filter((e) => e.type === 'TweetAuthorRecorded')) {
        const tweetId = (record.data as { tweetId: string }).tweetId;
        expect(
          postedBefore.has(tweetId),
          `trial ${trial}: ${tweetId} was recorded after the deletion without a post before it`,
        ).toBe(true);
      }
      expect(
        authoredAfter.filter((e) => e.type !== 'TweetAuthorRecorded').map((e) => e.type),
        `trial ${trial}`,
      ).toEqual([]);

      for (const answer of answers) {
        statuses.add(answer.status);
        // Accepted means in the log (before the deletion); anything else is the deleted author.
        if (answer.status === 202) expect(posted.has(String(answer.body.id))).toBe(true);
        else expect([answer.status, answer.body.type]).toEqual([401, '/problems/unauthorized']);
      }
      const accepted = answers.filter((a) => a.status === 202).length;
      const tweetsOfAuthor = log.filter(
        (e) => e.type === 'TweetPosted' && (e.data as { authorId: string }).authorId === author.id,
      );
      expect(tweetsOfAuthor).toHaveLength(accepted + 2);
    }
    // The deletion really raced the posts: some got in before it, and some were refused after.
    expect([...statuses].sort()).toEqual([202, 401]);
  });

  it('refuses a post on an instance that knew the author before its deletion elsewhere', async () => {
    const author = await signUp(fixture.call);
    const post = (call: typeof fixture.call) =>
      call('POST', '/tweets', { token: author.token, body: { text: 'hello' } });
    expect((await post(callOther)).status).toBe(202);
    expect(
      (await fixture.call('DELETE', `/users/${author.id}`, { token: author.token })).status,
    ).toBe(204);
    const before = (await allEvents(fixture.service.eventStore)).length;
    const refused = await post(callOther);
    expect([refused.status, refused.body.type]).toEqual([401, '/problems/unauthorized']);
    const keyed = await callOther('POST', '/tweets', {
      token: author.token,
      body: { text: 'hello' },
      headers: { 'idempotency-key': 'after-deletion' },
    });
    expect(keyed.status).toBe(401);
    expect((await allEvents(fixture.service.eventStore)).length).toBe(before);
  });
});
