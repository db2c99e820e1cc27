import { switchActiveCopy, createKysely, timelineKeys } from '@tweeter/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryServiceUnderTest, type TestUser } from '../testing/queryServiceUnderTest.ts';

/**
 * Home timelines against the real projections (run in-process) on a real database and Redis:
 * the head/tail split at the 800-entry boundary, celebrities merged at read time, and the answers
 * from PostgreSQL when Redis lost the data.
 */
describe('home timeline', () => {
  let sut: QueryServiceUnderTest;
  let reader: TestUser;
  let authors: TestUser[];
  let celebrity: TestUser;
  /** The expected timeline of `reader`, newest first. */
  let expected: string[];

  const sortDesc = (tweets: { id: string; at: number }[]) =>
    tweets.sort((a, b) => (a.at !== b.at ? b.at - a.at : a.id < b.id ? 1 : -1)).map((t) => t.id);

  beforeAll(async () => {
    // Threshold 2: an author with 3 followers is a celebrity (not fanned out).
    sut = await QueryServiceUnderTest.start({ fanoutMaxFollowers: 2 });
    reader = await sut.createUser('reader');
    authors = [await sut.createUser('a1'), await sut.createUser('a2'), await sut.createUser('a3')];
    celebrity = await sut.createUser('celeb');
    const fans = [await sut.createUser('f1'), await sut.createUser('f2')];
    const posted: { id: string; at: number; author: string }[] = [];
    const post = async (author: TestUser, tick: number) => {
      const { id } = await sut.post(author.id, `by ${author.username}`, tick);
      posted.push({ id, at: Date.parse(sut.tick(0)), author: author.id });
      return id;
    };
    // Tweets before the follows (merged on follow), many per millisecond (ties by id).
    for (let i = 0; i < 300; i++) await post(authors[i % 3]!, i % 4 === 0 ? 1 : 0);
    // The celebrity posts while still fanned out, then becomes one (3 followers > 2).
    for (let i = 0; i < 5; i++) await post(celebrity, 1);
    for (const a of authors) await sut.follow(reader.id, a.id);
    await sut.follow(reader.id, celebrity.id);
    for (const f of fans) await sut.follow(f.id, celebrity.id);
    // After the follows: enough for the reader's home to pass 800 entries and get a boundary.
    for (let i = 0; i < 700; i++) await post(authors[i % 3]!, i % 3 === 0 ? 1 : 0);
    for (let i = 0; i < 60; i++) await post(celebrity, i % 2);
    for (let i = 0; i < 20; i++) await post(reader, 1);
    // Deleted tweets disappear; an unfollowed author's tweets too.
    const doomed = posted.filter((_, i) => i % 97 === 5);
    for (const t of doomed) await sut.deleteTweet(t.id, t.author);
    const unfollowed = await sut.createUser('gone');
    await sut.follow(reader.id, unfollowed.id);
    for (let i = 0; i < 10; i++) await post(unfollowed, 1);
    await sut.unfollow(reader.id, unfollowed.id);
    await sut.project();
    const doomedIds = new Set(doomed.map((t) => t.id));
    expected = sortDesc(posted.filter((t) => !doomedIds.has(t.id) && t.author !== unfollowed.id));
  }, 120_000);

  afterAll(async () => {
    await sut?.close();
  });

  it('is longer than the cache, and the cache has a boundary', async () => {
    expect(expected.length).toBeGreaterThan(1000);
    const keys = timelineKeys('v1');
    expect(await sut.redis.zcard(keys.home(reader.id))).toBeLessThanOrEqual(800);
    expect(await sut.redis.hget(keys.user(reader.id), 'bs')).not.toBeNull();
    expect(await sut.redis.sismember(keys.celebs, celebrity.id)).toBe(1);
  });

  it('pages through head, celebrities and tail to exactly the whole timeline', async () => {
    for (const limit of [100, 7]) {
      expect(await sut.all(`/users/${reader.id}/timeline`, { token: reader.token, limit })).toEqual(
        expected,
      );
    }
  });

  it('serves pages with tweets, authors, a cursor and a Link header', async () => {
    const page = await sut.get(`/users/${reader.id}/timeline?limit=3`, { token: reader.token });
    expect(page.status).toBe(200);
    const data = page.body.data as {
      id: string;
      authorId: string;
      author: { id: string; username: string };
    }[];
    expect(data.map((t) => t.id)).toEqual(expected.slice(0, 3));
    expect(data[0]!.author.id).toBe(data[0]!.authorId);
    expect(page.headers.get('link')).toBe(
      `</users/${reader.id}/timeline?cursor=${page.body.nextCursor as string}&limit=3>; rel="next"`,
    );
    expect(page.headers.get('cache-control')).toContain('no-store');
  });

  it('never repeats or skips while new tweets arrive', async () => {
    const first = await sut.get(`/users/${reader.id}/timeline?limit=50`, { token: reader.token });
    const seen = (first.body.data as { id: string }[]).map((t) => t.id);
    for (let i = 0; i < 5; i++) await sut.post(authors[0]!.id, 'new', 1);
    await sut.project();
    let cursor = first.body.nextCursor as string | null;
    while (cursor) {
      const page = await sut.get(`/users/${reader.id}/timeline?limit=50&cursor=${cursor}`, {
        token: reader.token,
      });
      seen.push(...(page.body.data as { id: string }[]).map((t) => t.id));
      cursor = page.body.nextCursor as string | null;
    }
    expect(seen).toEqual(expected);
    const now = await sut.all(`/users/${reader.id}/timeline`, { token: reader.token });
    expected = now;
    expect(now.length).toBe(seen.length + 5);
  });

  it('answers from PostgreSQL when the user’s keys are lost, and when Redis is flushed', async () => {
    const keys = timelineKeys('v1');
    await sut.redis.del(keys.user(reader.id), keys.home(reader.id));
    expect(await sut.all(`/users/${reader.id}/timeline`, { token: reader.token })).toEqual(
      expected,
    );
    await sut.flushRedis();
    expect(
      await sut.all(`/users/${reader.id}/timeline`, { token: reader.token, limit: 33 }),
    ).toEqual(expected);
    const metrics = await (await fetch(`${sut.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/query_timeline_fallbacks_total\{[^}]*reason="not-live"[^}]*\} [1-9]/);
    expect(metrics).toMatch(
      /query_timeline_fallbacks_total\{[^}]*reason="user-missing"[^}]*\} [1-9]/,
    );
    // A rebuilt copy answers from Redis again, identically.
    await sut.project();
    expect(await sut.all(`/users/${reader.id}/timeline`, { token: reader.token })).toEqual(
      expected,
    );
  });

  it('answers from PostgreSQL while Redis does not answer at all', async () => {
    const instance = await sut.startAnotherInstance({ redisUrl: 'redis://127.0.0.1:1' });
    try {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const response: Response = await fetch(
          `${instance.baseUrl}/users/${reader.id}/timeline?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
          {
            headers: {
              authorization: `Bearer ${reader.token}`,
              'X-Min-Position': sut.lastProjected!,
            },
          },
        );
        expect(response.status).toBe(200);
        const page = (await response.json()) as {
          data: { id: string }[];
          nextCursor: string | null;
        };
        ids.push(...page.data.map((t) => t.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(ids).toEqual(expected);
      // Not ready (Redis is a dependency), yet no read failed.
      expect((await fetch(`${instance.baseUrl}/readyz`)).status).toBe(503);
    } finally {
      await instance.close();
    }
  });

  it('follows a switch of the active copies without a restart', async () => {
    const db = createKysely(sut.pool);
    await switchActiveCopy(db, 'timelines', 'v2'); // not built yet: answered from PostgreSQL
    expect(await sut.all(`/users/${reader.id}/timeline`, { token: reader.token })).toEqual(
      expected,
    );
    await sut.useCopies('read_model_b', 'v2');
    await sut.project();
    await switchActiveCopy(db, 'read-model', 'read_model_b');
    expect(await sut.all(`/users/${reader.id}/timeline`, { token: reader.token })).toEqual(
      expected,
    );
    expect(await sut.redis.exists(timelineKeys('v2').home(reader.id))).toBe(1);
  });

  it('needs the owner’s valid token', async () => {
    const path = `/users/${reader.id}/timeline`;
    expect((await sut.get(path)).status).toBe(401);
    expect((await sut.get(path, { token: 'nonsense' })).status).toBe(401);
    expect((await sut.get(path, { token: `${reader.token.slice(0, -2)}xx` })).status).toBe(401);
    expect((await sut.get(path, { token: authors[0]!.token })).status).toBe(403);
    expect((await sut.get(`/users/not-a-uuid/timeline`, { token: reader.token })).status).toBe(400);
    const leaving = await sut.createUser('leaving');
    expect((await sut.get(`/users/${leaving.id}/timeline`, { token: leaving.token })).status).toBe(
      200,
    );
    await sut.deleteUser(leaving.id);
    const after = await sut.get(`/users/${leaving.id}/timeline`, { token: leaving.token });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses cursors of other listings and forged ones', async () => {
    const page = await sut.get(`/users/${reader.id}/timeline?limit=2`, { token: reader.token });
    const cursor = page.body.nextCursor as string;
    const other = await sut.get(`/users/${authors[0]!.id}/tweets?limit=1`);
    for (const bad of [other.body.nextCursor as string, `${cursor.slice(0, -3)}AAA`, 'bm9wZQ']) {
      const answer = await sut.get(`/users/${reader.id}/timeline?cursor=${bad}`, {
        token: reader.token,
      });
      expect(answer.status).toBe(400);
      expect(answer.body.type).toBe('/problems/validation');
    }
    for (const limit of ['0', '101', 'x']) {
      const answer = await sut.get(`/users/${reader.id}/timeline?limit=${limit}`, {
        token: reader.token,
      });
      expect(answer.status).toBe(400);
    }
  });
});
