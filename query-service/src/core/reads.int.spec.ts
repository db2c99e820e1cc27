import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryServiceUnderTest, type TestUser } from '../testing/queryServiceUnderTest.ts';

/** Profiles, listings, read-your-writes and the operational endpoints on a real database. */
describe('query service reads', () => {
  let sut: QueryServiceUnderTest;
  let ada: TestUser;
  let others: TestUser[];

  beforeAll(async () => {
    sut = await QueryServiceUnderTest.start({ consistencyWaitMs: 600 });
    ada = await sut.createUser('Ada_L');
    others = [];
    for (let i = 0; i < 7; i++) others.push(await sut.createUser(`o${i}`));
    for (const o of others) await sut.follow(o.id, ada.id);
    for (const o of others.slice(0, 3)) await sut.follow(ada.id, o.id);
    await sut.unfollow(others[1]!.id, ada.id);
    for (let i = 0; i < 5; i++) await sut.post(ada.id, `t${i}`, i === 2 ? 0 : 1);
    await sut.project();
  });

  afterAll(async () => {
    await sut?.close();
  });

  it('serves profiles with counters, by id and by username in any case', async () => {
    const byId = await sut.get(`/users/${ada.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({
      id: ada.id,
      username: 'Ada_L',
      displayName: 'Ada_L',
      bio: '',
      followersCount: 6,
      followingCount: 3,
      tweetCount: 5,
    });
    expect(byId.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await sut.get('/users/by-username/aDA_l')).body).toEqual(byId.body);
    expect((await sut.get('/users/by-username/nobody')).status).toBe(404);
    expect((await sut.get('/users/by-username/no-such!')).status).toBe(400);
    expect((await sut.get(`/users/${others[0]!.id.replace(/.$/, '0')}ff`)).status).toBe(400);
    const missing = await sut.get('/users/01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('lists followers and following, newest follow first, in pages', async () => {
    const followers = others
      .filter((_, i) => i !== 1)
      .map((o) => o.id)
      .reverse();
    expect(await sut.all(`/users/${ada.id}/followers`, { limit: 2 })).toEqual(followers);
    expect(await sut.all(`/users/${ada.id}/following`, { limit: 1 })).toEqual(
      others
        .slice(0, 3)
        .map((o) => o.id)
        .reverse(),
    );
    const page = await sut.get(`/users/${ada.id}/followers?limit=6`);
    expect(page.body.nextCursor).toBeNull();
    expect(page.headers.get('link')).toBeNull();
    expect((page.body.data as object[])[0]).toEqual({
      id: followers[0],
      username: 'o6',
      displayName: 'o6',
    });
    expect((await sut.get('/users/01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80/followers')).status).toBe(
      404,
    );
  });

  it('lists a user’s tweets newest first and serves one tweet', async () => {
    const ids = await sut.all(`/users/${ada.id}/tweets`, { limit: 2 });
    expect(ids).toHaveLength(5);
    const tweet = await sut.get(`/tweets/${ids[0]}`);
    expect(tweet.body).toMatchObject({
      id: ids[0],
      authorId: ada.id,
      text: 't4',
      author: { id: ada.id, username: 'Ada_L', displayName: 'Ada_L' },
    });
    expect((await sut.get('/tweets/01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80')).status).toBe(404);
  });

  it('waits for X-Min-Position, and times out with Retry-After', async () => {
    const { id, position } = await sut.post(ada.id, 'fresh');
    const waiting = sut.get(`/tweets/${id}`, { headers: { 'X-Min-Position': position } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sut.project();
    expect((await waiting).status).toBe(200);

    const late = await sut.post(ada.id, 'late');
    const timeout = await sut.get(`/users/${ada.id}`, {
      headers: { 'X-Min-Position': late.position },
    });
    expect(timeout.status).toBe(503);
    expect(timeout.body.type).toBe('/problems/consistency-timeout');
    expect(timeout.headers.get('retry-after')).toBe('1');
    await sut.project();
    const timeline = await sut.get(`/users/${ada.id}/timeline`, {
      token: ada.token,
      headers: { 'X-Min-Position': late.position },
    });
    expect((timeline.body.data as { id: string }[])[0]!.id).toBe(late.id);

    const bad = await sut.get(`/users/${ada.id}`, { headers: { 'X-Min-Position': 'yesterday' } });
    expect(bad.status).toBe(400);
  });

  it('answers health, readiness, metrics and its OpenAPI document', async () => {
    expect((await sut.get('/healthz')).status).toBe(200);
    const ready = await sut.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'ok', redis: 'ok', eventStore: 'ok' });
    const doc = await sut.get('/openapi.json');
    const paths = Object.keys(doc.body.paths as object);
    for (const path of [
      '/users/{id}',
      '/users/by-username/{username}',
      '/users/{id}/followers',
      '/users/{id}/following',
      '/users/{id}/tweets',
      '/users/{id}/timeline',
      '/tweets/{id}',
    ])
      expect(paths).toContain(path);
    const schemas = (doc.body.components as { schemas: Record<string, unknown> }).schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['Tweet', 'TweetPage', 'UserProfile']),
    );
    expect((await fetch(`${sut.baseUrl}/docs/`)).status).toBe(200);
    expect(await (await fetch(`${sut.baseUrl}/metrics`)).text()).toContain(
      'http_request_duration_seconds_count',
    );
  });
});
