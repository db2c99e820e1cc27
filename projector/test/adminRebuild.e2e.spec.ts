import { redisMasters, timelineKeys } from '@tweeter/shared';
import { testRedisEnv, useModelledStack, type ModelUser } from '@tweeter/shared/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from './adminCli.ts';

/**
 * Zero-downtime rebuilds under load: the real command service, projector and query service; a
 * writer keeps posting and readers keep reading timelines and profiles (with X-Min-Position, so
 * every committed write must be visible) while `tweeter-admin rebuild … --zero-downtime` runs as
 * a process for the read model, then for the timelines. No 5xx, no page that differs from the
 * reference model, and the old copies are gone afterwards.
 */
describe('rebuild --zero-downtime under load', () => {
  const fixture = useModelledStack(
    { FANOUT_MAX_FOLLOWERS: '3', CONSISTENCY_WAIT_MS: '15000' },
    4242,
  );
  const { model, rng, api } = fixture;

  async function createUser(i: number): Promise<ModelUser> {
    return api.createUser(`load${i}`);
  }

  async function post(author: ModelUser) {
    await api.post(author, `tweet ${rng.int(1e9)}`);
  }

  it('keeps every page equal to the reference while both copies are rebuilt and switched', async () => {
    const users: ModelUser[] = [];
    for (let i = 0; i < 16; i++) users.push(await createUser(i));
    for (const a of users)
      for (let j = 0; j < 4; j++) {
        // The first users are followed more: some become celebrities (merged at read time).
        const b = rng.next() < 0.4 ? users[rng.int(3)]! : rng.pick(users);
        if (a.id === b.id || model.isFollowing(a.id, b.id)) continue;
        await api.follow(a, b);
      }
    const queue = Array.from({ length: 300 }, () => rng.pick(users));
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let a = queue.shift(); a; a = queue.shift()) await post(a);
      }),
    );

    let stop = false;
    let posting: Promise<void> = Promise.resolve();
    const problems: string[] = [];
    let reads = 0;
    let posts = 0;
    const writer = (async () => {
      while (!stop) {
        posting = post(rng.pick(users));
        await posting;
        posts++;
      }
    })();
    const reader = async () => {
      while (!stop) {
        const user = rng.pick(users);
        const limit = rng.pick([5, 20, 50]);
        const minPosition = api.lastPosition;
        const before = model.timeline(user.id);
        const beforeProfile = model.profile(user.id);
        const [page, profile] = await Promise.all([
          api.read(`/users/${user.id}/timeline?limit=${limit}`, {
            minPosition,
            token: user.token,
          }),
          api.read(`/users/${user.id}`, { minPosition }),
        ]);
        reads++;
        for (const r of [page, profile])
          if (r.status !== 200) problems.push(`${r.status} ${JSON.stringify(r.body)}`);
        if (page.status !== 200 || profile.status !== 200) continue;
        await posting; // a post in flight during the read may show; the model learns it here
        const after = new Map(model.timeline(user.id).map((t) => [t.id, t]));
        const beforeIds = new Set(before.map((t) => t.id));
        const items = page.body.data as { id: string }[];
        // Items posted while the read ran may appear (the contract allows it), exactly as posted.
        for (const item of items)
          if (
            !beforeIds.has(item.id) &&
            JSON.stringify(after.get(item.id)) !== JSON.stringify(item)
          )
            problems.push(`timeline of ${user.username}: unexpected ${JSON.stringify(item)}`);
        const old = items.filter((i) => beforeIds.has(i.id));
        const want = before.slice(0, old.length);
        if (JSON.stringify(old) !== JSON.stringify(want))
          problems.push(
            `timeline of ${user.username} differs: ${JSON.stringify({ got: old.map((i) => i.id), want: want.map((i) => i.id) })}`,
          );
        if (items.length < limit && old.length < before.length)
          problems.push(
            `timeline of ${user.username}: ${items.length} items, ${before.length} committed`,
          );
        const got = profile.body as { tweetCount: number };
        const { tweetCount, ...rest } = beforeProfile;
        const now = model.profile(user.id);
        if (
          JSON.stringify({ ...got, tweetCount: 0 }) !==
            JSON.stringify({ ...rest, tweetCount: 0 }) ||
          got.tweetCount < tweetCount ||
          got.tweetCount > now.tweetCount
        )
          problems.push(
            `profile of ${user.username}: ${JSON.stringify(got)} vs ${JSON.stringify(beforeProfile)}`,
          );
      }
    };
    const readers = Promise.all([reader(), reader(), reader()]);

    const env = {
      DATABASE_URL: fixture.stack.database.url,
      ...testRedisEnv(),
      REDIS_PREFIX: fixture.stack.redisPrefix,
      FANOUT_MAX_FOLLOWERS: '3',
      PROJECTOR_URL: fixture.stack.projector.baseUrl,
    };
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const results: Record<string, unknown>[] = [];
    for (const name of ['read-model', 'timelines']) {
      const r = await runCli(
        ['rebuild', name, '--zero-downtime', '--yes', '--json', '--drain-ms', '2000'],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      results.push(JSON.parse(r.stdout.trim()) as Record<string, unknown>);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    stop = true;
    await Promise.all([writer, readers]);

    expect(problems.slice(0, 10)).toEqual([]);
    expect(reads).toBeGreaterThan(50);
    expect(posts).toBeGreaterThan(20);
    expect(results.map((r) => [r.projection, r.from, r.dropped])).toEqual([
      ['read-model', 'read_model', true],
      ['timelines', 'v1', true],
    ]);
    // The old copies are gone: no schema, no key.
    const { Client } = (await import('pg')).default;
    const pg = new Client({ connectionString: fixture.stack.database.url });
    await pg.connect();
    const schemas = await pg.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'read_model%' ORDER BY 1`,
    );
    await pg.end();
    expect(schemas.rows.map((r) => r.nspname)).toEqual([results[0]!.to]);
    expect(await fixture.redis.exists(timelineKeys('v1').meta)).toBe(0);
    // Every master's keys (KEYS patterns ignore the client's prefix: it is spelt out).
    const left = await Promise.all(
      redisMasters(fixture.redis).map((m) => m.keys(`${fixture.stack.redisPrefix}tl:v1:*`)),
    );
    expect(left.flat()).toEqual([]);

    // And the new copies answer every full timeline like the reference.
    for (const user of users) {
      const page = await api.read(`/users/${user.id}/timeline?limit=100`, { token: user.token });
      expect(page.body.data).toEqual(model.timeline(user.id).slice(0, 100));
    }
  });
});
