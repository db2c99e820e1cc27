import {
  connectRedis,
  PostgresEventStore,
  timelineKeys,
  type Position,
  type RedisClient,
} from '@tweeter/shared';
import {
  testRedisServers,
  useModelledStack,
  type ModelledApi,
  type ModelUser,
} from '@tweeter/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The product end to end: the real command service, projector and query service as processes,
 * driven over HTTP by a seeded random sequence of commands. After each phase every user's full
 * paginated timeline, followers, following, tweets and counters must equal a reference model.
 * FANOUT_MAX_FOLLOWERS is 3, so popular authors become celebrities merged at read time.
 */
const seed = Number(process.env.E2E_SEED ?? 20261124);
const fanoutMax = 3;

describe(`query service end to end (seed ${seed})`, () => {
  const fixture = useModelledStack(
    {
      FANOUT_MAX_FOLLOWERS: String(fanoutMax),
      // A busy 2-core machine may need longer than the default 2 s for a large fan-out.
      CONSISTENCY_WAIT_MS: '15000',
    },
    seed,
  );
  /** Commands go through `api`, mirrored into `model`; reads wait for the newest write. */
  const { model, rng, api } = fixture;
  let log: PostgresEventStore;
  let logPosition: Position | null = null;
  /** The stack's Redis under its prefix: the single server, or the cluster (TEST_REDIS=cluster). */
  let redis: RedisClient;

  beforeAll(async () => {
    log = await PostgresEventStore.connect({ url: fixture.stack.database.url });
    redis = connectRedis(testRedisServers(), fixture.stack.redisPrefix);
  });

  afterAll(async () => {
    redis?.disconnect();
    await log?.close();
  });

  const command: ModelledApi['command'] = (...args) => api.command(...args);
  const query = (path: string, token?: string) => api.read(path, token ? { token } : {});

  /** Every page of a listing (checking the Link header on the way). */
  async function all(path: string, token?: string, limit = rng.pick([7, 50, 100])) {
    const items: unknown[] = [];
    let cursor: string | null = null;
    for (let pages = 0; ; pages++) {
      const url = `${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await query(url, token);
      if (page.status !== 200)
        throw new Error(`${url}: ${page.status} ${JSON.stringify(page.body)}`);
      const data = page.body.data as unknown[];
      expect(data.length).toBeLessThanOrEqual(limit);
      items.push(...data);
      cursor = page.body.nextCursor as string | null;
      expect(page.headers.get('link')).toBe(
        cursor ? `<${path}?cursor=${cursor}&limit=${limit}>; rel="next"` : null,
      );
      if (!cursor) return items;
      if (pages > 2000) throw new Error(`${path}: endless pagination`);
    }
  }

  // ---- commands, mirrored into the model -------------------------------------------------------

  let names = 0;
  async function createUser(prefix = 'u'): Promise<ModelUser> {
    return api.createUser(`${prefix}${names++}_${seed % 1000}`);
  }

  async function follow(a: ModelUser, b: ModelUser) {
    await api.follow(a, b);
  }

  async function unfollow(a: ModelUser, b: ModelUser) {
    const answer = await command('DELETE', `/users/${a.id}/following/${b.id}`, { token: a.token });
    expect(answer.status).toBe(204);
    model.unfollow(a.id, b.id);
  }

  async function post(author: ModelUser, text = `tweet ${rng.int(1e9)} by ${author.username}`) {
    return api.post(author, text);
  }

  async function deleteTweet(id: string) {
    const tweet = model.tweets.get(id)!;
    const author = model.users.get(tweet.authorId)!;
    expect((await command('DELETE', `/tweets/${id}`, { token: author.token })).status).toBe(204);
    model.tweets.delete(id);
  }

  async function rename(user: ModelUser) {
    const displayName = `Name ${rng.int(1e6)}`;
    const answer = await command('PATCH', `/users/${user.id}`, {
      token: user.token,
      body: { displayName },
    });
    expect(answer.status).toBe(200);
    user.displayName = displayName;
  }

  async function deleteUser(user: ModelUser) {
    expect((await command('DELETE', `/users/${user.id}`, { token: user.token })).status).toBe(204);
    model.deleteUser(user.id);
    // The token stops working at once: the query service checks it against the user's stream.
    const timeline = await fetch(`${fixture.stack.query.baseUrl}/users/${user.id}/timeline`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(timeline.status).toBe(401);
  }

  async function randomCommands(count: number) {
    for (let i = 0; i < count; i++) {
      const alive = model.alive();
      const roll = rng.next();
      if (roll < 0.08 || alive.length < 6) await createUser();
      else if (roll < 0.4) {
        const a = rng.pick(alive);
        // Popular authors are picked more often, so some pass the fan-out threshold.
        const b = rng.next() < 0.3 ? rng.pick(alive.slice(0, 3)) : rng.pick(alive);
        if (a.id !== b.id) await follow(a, b);
      } else if (roll < 0.5) {
        const a = rng.pick(alive);
        const followed = alive.filter((b) => model.isFollowing(a.id, b.id));
        await unfollow(a, followed.length > 0 ? rng.pick(followed) : rng.pick(alive));
      } else if (roll < 0.85) await post(rng.pick(alive));
      else if (roll < 0.93) {
        const tweets = [...model.tweets.keys()];
        if (tweets.length > 0) await deleteTweet(rng.pick(tweets));
      } else if (roll < 0.97) await rename(rng.pick(alive));
      else if (alive.length > 10) await deleteUser(rng.pick(alive.slice(3)));
    }
  }

  /**
   * Follow times come from the log (the Followed events' occurredAt), as the read model's do. The
   * log shows an event once every older transaction has ended, so a fresh one may take a moment.
   */
  async function learnFollowTimes() {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const batch = await log.readAll({ after: logPosition, maxCount: 5000 });
      if (batch.length === 0) {
        if (model.edgesWithoutTime().length === 0 || Date.now() > deadline) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      for (const event of batch)
        if (event.type === 'Followed') {
          const data = event.data as { followerId: string; followeeId: string };
          const at = Date.parse((event.metadata as { occurredAt: string }).occurredAt);
          model.setFollowTime(data.followerId, data.followeeId, at);
        }
      logPosition = batch.at(-1)!.position;
    }
  }

  /** Every user's profile and listings equal the model's. */
  async function compareEverything() {
    await learnFollowTimes();
    expect(model.edgesWithoutTime()).toEqual([]);
    const users = [...model.users.values()];
    const check = async (user: ModelUser) => {
      const profile = await query(`/users/${user.id}`);
      if (!user.alive) {
        expect(profile.status).toBe(404);
        return;
      }
      expect(profile.body, user.username).toEqual(model.profile(user.id));
      expect(await all(`/users/${user.id}/followers`)).toEqual(model.followers(user.id));
      expect(await all(`/users/${user.id}/following`)).toEqual(model.following(user.id));
      expect(await all(`/users/${user.id}/tweets`)).toEqual(model.tweetsBy(user.id));
      const got = await all(`/users/${user.id}/timeline`, user.token);
      if (JSON.stringify(got) !== JSON.stringify(model.timeline(user.id)))
        await explainTimelineMismatch(user, got);
      expect(got, `timeline of ${user.username}`).toEqual(model.timeline(user.id));
    };
    for (let i = 0; i < users.length; i += 4) await Promise.all(users.slice(i, i + 4).map(check));
    const byName = await query(`/users/by-username/${model.alive()[0]!.username.toUpperCase()}`);
    expect(byName.body).toEqual(model.profile(model.alive()[0]!.id));
    for (const id of [...model.tweets.keys()].slice(0, 5))
      expect((await query(`/tweets/${id}`)).body).toEqual(model.tweetView(model.tweets.get(id)!));
  }

  /** What Redis holds for a user whose timeline differs: tells a projection fault from a read fault. */
  async function explainTimelineMismatch(user: ModelUser, got: unknown[]) {
    const ids = (tweets: unknown[]) =>
      (tweets as { id: string; authorId: string }[]).map((t) => `${t.id} by ${t.authorId}`);
    console.error(`timeline of ${user.username} (${user.id}) differs`, {
      userHash: await redis.hgetall(keys.user(user.id)),
      homeEntries: await redis.zcard(keys.home(user.id)),
      followingInRedis: await redis.smembers(keys.following(user.id)),
      followingInModel: model.following(user.id).map((f) => f.id),
      celebrities: await redis.smembers(keys.celebs),
      meta: await redis.hgetall(keys.meta),
      lastPosition: api.lastPosition,
      got: ids(got),
      want: ids(model.timeline(user.id)),
    });
  }

  const keys = timelineKeys('v1');

  // ---- the phases ------------------------------------------------------------------------------

  it('phase 1: sign-ups, follows and posts, with a popular author', async () => {
    const star = await createUser('star');
    for (let i = 0; i < 11; i++) await createUser();
    for (const fan of model.alive().slice(1, 7)) await follow(fan, star); // 6 > 3: a celebrity
    await post(star);
    await randomCommands(150);
    await compareEverything();
    expect(await redis.sismember(keys.celebs, star.id)).toBe(1);
  });

  it('phase 2: more of everything, including unfollows, deletions and renames', async () => {
    await randomCommands(200);
    await compareEverything();
  });

  it('phase 3: a flushed Redis is answered from PostgreSQL at once, then rebuilt', async () => {
    // Redis loses everything under the running projector, which must notice by itself and
    // rebuild from the start. E2E_FLUSH_STOPPED=1 flushes while the projector is down instead
    // (a restart of a Redis without persistence).
    const live = process.env.E2E_FLUSH_STOPPED !== '1';
    if (!live) await fixture.stack.stopProjector();
    expect(await fixture.stack.flushRedis()).toBeGreaterThan(0);
    await compareEverything(); // at once, from the tables
    if (!live) await fixture.stack.startProjector(); // it finds the copy empty and rebuilds it
    await randomCommands(60); // meanwhile: from PostgreSQL until the copy is live again
    await compareEverything();
    const deadline = Date.now() + 60_000;
    while ((await redis.hget(keys.meta, 'live')) !== '1') {
      if (Date.now() > deadline) throw new Error('timelines were not rebuilt within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await compareEverything(); // from the rebuilt copy
  });

  it('phase 4: timelines longer than the 800-entry cache, paged while new tweets arrive', async () => {
    await randomCommands(40);
    const reader = await createUser('long');
    const authors = [await createUser('bulk'), await createUser('bulk'), await createUser('bulk')];
    for (const a of authors) await follow(reader, a);
    await post(reader);
    const queue = Array.from({ length: 900 }, (_, i) => authors[i % 3]!);
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let a = queue.shift(); a; a = queue.shift()) await post(a);
      }),
    );
    await compareEverything();
    expect(model.timeline(reader.id).length).toBeGreaterThan(900);
    // The reader's cache was trimmed: the timeline crosses from Redis into PostgreSQL.
    expect(await redis.hget(keys.user(reader.id), 'bs')).not.toBeNull();

    // Paging while new tweets arrive: what existed at the first page, each exactly once.
    const before = model.timeline(reader.id);
    const first = await query(`/users/${reader.id}/timeline?limit=100`, reader.token);
    const seen = [...(first.body.data as unknown[])];
    let cursor = first.body.nextCursor as string | null;
    let pages = 0;
    while (cursor) {
      if (pages++ % 3 === 0) {
        await post(rng.pick(authors));
        await post(reader);
      }
      const page = await query(
        `/users/${reader.id}/timeline?limit=100&cursor=${cursor}`,
        reader.token,
      );
      seen.push(...(page.body.data as unknown[]));
      cursor = page.body.nextCursor as string | null;
    }
    expect(seen).toEqual(before);
    await compareEverything();
  });
});
