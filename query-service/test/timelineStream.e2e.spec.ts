import {
  freePort,
  openEventStream,
  startService,
  useModelledStack,
  type ModelUser,
  type ServiceProcess,
  type TestEventStream,
} from '@tweeter/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The streaming API end to end (command service, projector with fan-out partitions, query service
 * as processes): many users hold `GET /users/{id}/timeline/stream` open while a seeded workload
 * posts, follows, unfollows, deletes tweets and deletes a user; each stream must carry exactly
 * the reference model's changes of that user's home timeline, in order: an `update` per tweet that
 * arrives (as the timeline shows it), a `delete` per tweet deletion and per unfollow or author
 * deletion that takes tweets out.
 */
const seed = Number(process.env.E2E_SEED ?? 20261201);
/** How long a home stays watched after its stream's last heartbeat, here. */
const keepMs = 4000;

type Expected = { event: 'update'; tweet: unknown } | { event: 'delete'; ids: string[] };

describe(`timeline streams end to end (seed ${seed})`, () => {
  const fixture = useModelledStack(
    {
      TIMELINE_STREAM_HEARTBEAT_MS: '1000',
      TIMELINE_STREAM_KEEP_MS: String(keepMs),
      CONSISTENCY_WAIT_MS: '15000',
    },
    seed,
  );
  const { model, rng, api } = fixture;
  const streams = new Map<string, TestEventStream>();
  const expected = new Map<string, Expected[]>();
  /** A second projector process: the two share the timelines' fan-out partitions. */
  let secondProjector: ServiceProcess | undefined;
  afterAll(async () => {
    for (const s of streams.values()) s.close();
    await secondProjector?.stop();
  });

  const url = (user: ModelUser) =>
    `${fixture.stack.query.baseUrl}/users/${user.id}/timeline/stream`;
  const open = (user: ModelUser, lastEventId?: string | null) =>
    openEventStream(url(user), { token: user.token, lastEventId: lastEventId ?? null });
  const expect_ = (userId: string, e: Expected) => {
    if (expected.has(userId)) expected.get(userId)!.push(e);
  };
  /** Who holds `authorId`'s tweets in their home: the author and every follower. */
  const homesOf = (authorId: string) => [
    authorId,
    ...model
      .alive()
      .filter((u) => model.isFollowing(u.id, authorId))
      .map((u) => u.id),
  ];
  const liveTweetsOf = (authorId: string) =>
    [...model.tweets.values()].filter((t) => t.authorId === authorId).map((t) => t.id);

  async function post(author: ModelUser) {
    const id = await api.post(author, `tweet ${rng.int(1e9)} by ${author.username}`);
    const view = model.tweetView(model.tweets.get(id)!);
    for (const home of homesOf(author.id)) expect_(home, { event: 'update', tweet: view });
  }
  async function deleteTweet(id: string) {
    const tweet = model.tweets.get(id)!;
    const author = model.users.get(tweet.authorId)!;
    const answer = await api.command('DELETE', `/tweets/${id}`, { token: author.token });
    expect(answer.status).toBe(204);
    for (const home of homesOf(author.id)) expect_(home, { event: 'delete', ids: [id] });
    model.tweets.delete(id);
  }
  async function unfollow(a: ModelUser, b: ModelUser) {
    const answer = await api.command('DELETE', `/users/${a.id}/following/${b.id}`, {
      token: a.token,
    });
    expect(answer.status).toBe(204);
    const ids = liveTweetsOf(b.id);
    if (model.isFollowing(a.id, b.id) && ids.length > 0)
      expect_(a.id, { event: 'delete', ids: ids.sort() });
    model.unfollow(a.id, b.id);
  }
  async function deleteUser(user: ModelUser) {
    const ids = liveTweetsOf(user.id);
    const followers = homesOf(user.id).slice(1);
    const answer = await api.command('DELETE', `/users/${user.id}`, { token: user.token });
    expect(answer.status).toBe(204);
    if (ids.length > 0) for (const f of followers) expect_(f, { event: 'delete', ids: ids.sort() });
    model.deleteUser(user.id);
  }

  /** The events of a stream in the model's terms: updates with the tweet, deletes with sorted ids. */
  const received = (events: { event?: string | undefined; data: string }[]): Expected[] =>
    events
      .filter((e) => e.event === 'update' || e.event === 'delete')
      .map((e) =>
        e.event === 'update'
          ? { event: 'update', tweet: JSON.parse(e.data) as unknown }
          : { event: 'delete', ids: (JSON.parse(e.data) as { ids: string[] }).ids.sort() },
      );

  /**
   * What a stream may carry of `want`: all of it, except that the `update` of a tweet deleted
   * before the stream read it is left out (its body is gone; its `delete` follows). So `got`
   * must be `want` with only such updates missing.
   */
  function expectStream(got: Expected[], want: Expected[], label: string) {
    const deletedLater = (i: number) => {
      const e = want[i]!;
      if (e.event !== 'update') return false;
      const id = (e.tweet as { id: string }).id;
      return want.slice(i + 1).some((d) => d.event === 'delete' && d.ids.includes(id));
    };
    const fitted: Expected[] = [];
    let g = 0;
    for (let i = 0; i < want.length; i++) {
      if (g < got.length && JSON.stringify(got[g]) === JSON.stringify(want[i])) {
        fitted.push(want[i]!);
        g++;
      } else if (!deletedLater(i)) fitted.push(want[i]!);
    }
    expect(got, label).toEqual(fitted);
  }

  /** Waits for the last expected change of each user's stream (nothing can leave it out). */
  async function allArrived(users: ModelUser[]) {
    for (const user of users) {
      const want = expected.get(user.id)!;
      const stream = streams.get(user.id)!;
      const last = JSON.stringify(want.at(-1));
      if (want.length > 0)
        await stream
          .until((events) => received(events).some((e) => JSON.stringify(e) === last))
          .catch(() => undefined);
      expectStream(received(stream.events), want, `stream of ${user.username}`);
    }
  }

  let users: ModelUser[] = [];

  it('refuses a stream without the owner’s token, and a malformed Last-Event-ID', async () => {
    users = [];
    for (let i = 0; i < 10; i++) users.push(await api.createUser(`s${i}_${seed % 1000}`));
    const [a, b] = users as [ModelUser, ModelUser];
    const anonymous = await openEventStream(url(a));
    expect(anonymous.status).toBe(401);
    const other = await openEventStream(url(a), { token: b.token });
    expect(other.status).toBe(403);
    expect(JSON.parse(other.events[0]!.data)).toMatchObject({ status: 403 });
    const bad = await openEventStream(url(a), { token: a.token, lastEventId: 'not-a-position' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.events[0]!.data)).toMatchObject({
      status: 400,
      detail: 'The Last-Event-ID header is invalid',
    });
  });

  it('carries each home’s changes exactly, in order, with heartbeats', async () => {
    const port = await freePort();
    secondProjector = await startService({
      name: 'projector-2',
      entry: 'projector/src/main.ts',
      env: { ...fixture.stack.env, PROJECTOR_PORT: String(port) },
      port,
    });
    // The workload starts once the second process holds a share of the partitions.
    const held = async (projector: ServiceProcess) => {
      const status = (await (await fetch(`${projector.baseUrl}/status`)).json()) as {
        projections: { name: string; partitions?: { state: string; chunks: number }[] }[];
      };
      const partitions = status.projections.find((p) => p.name === 'timelines')?.partitions ?? [];
      return partitions.filter((p) => p.state === 'held');
    };
    await expect
      .poll(async () => (await held(secondProjector!)).length, { timeout: 20_000 })
      .toBeGreaterThan(0);
    // Streams for the first eight; a follow graph with every kind of overlap.
    for (const u of users.slice(0, 8)) {
      const stream = await open(u);
      expect(stream.status).toBe(200);
      streams.set(u.id, stream);
      expected.set(u.id, []);
    }
    for (let i = 0; i < 25; i++) {
      const a = rng.pick(users);
      const b = rng.pick(users);
      if (a.id !== b.id && !model.isFollowing(a.id, b.id)) await api.follow(a, b);
    }
    for (let i = 0; i < 120; i++) {
      const alive = model.alive();
      const roll = rng.next();
      if (roll < 0.55) await post(rng.pick(alive));
      else if (roll < 0.7) {
        const tweets = [...model.tweets.keys()];
        if (tweets.length > 0) await deleteTweet(rng.pick(tweets));
      } else if (roll < 0.85) {
        const a = rng.pick(alive);
        const followed = alive.filter((b) => model.isFollowing(a.id, b.id));
        if (followed.length > 0) await unfollow(a, rng.pick(followed));
      } else {
        const a = rng.pick(alive);
        const b = rng.pick(alive);
        if (a.id !== b.id && !model.isFollowing(a.id, b.id)) await api.follow(a, b);
      }
    }
    // A followed author without a stream of its own leaves: its tweets leave its followers' homes.
    const leaving = users[9]!;
    for (const u of users.slice(0, 4))
      if (!model.isFollowing(u.id, leaving.id)) await api.follow(u, leaving);
    await post(leaving);
    await post(leaving);
    await deleteUser(leaving);
    await allArrived(users.slice(0, 8));
    // Both processes applied fan-out chunks.
    for (const projector of [fixture.stack.projector, secondProjector])
      expect((await held(projector)).reduce((n, p) => n + p.chunks, 0)).toBeGreaterThan(0);
    const kinds = new Set([...expected.values()].flat().map((e) => e.event));
    expect(kinds).toEqual(new Set(['update', 'delete']));
    // Heartbeats (every second here) arrive on every stream: the last one opened may be younger
    // than a second when the workload is done.
    for (const u of users.slice(0, 8))
      await expect
        .poll(() => streams.get(u.id)!.comments, { timeout: 5_000 })
        .toContain('heartbeat');
  });

  it('resumes after Last-Event-ID with nothing missed and nothing twice', async () => {
    const [a] = users as [ModelUser];
    const first = streams.get(a.id)!;
    // Where the resumed stream starts in the expected changes: after what the first one carried.
    const before = expected.get(a.id)!.length;
    first.close();
    await first.ended;
    const lastEventId = first.lastEventId;
    expect(lastEventId).toMatch(/^[0-9a-f]{32}$/);
    // While away: changes of a's home.
    const followee = model.alive().find((u) => u.id !== a.id && model.isFollowing(a.id, u.id));
    await post(a);
    if (followee) await post(followee);
    const own = liveTweetsOf(a.id);
    await deleteTweet(own[0]!);
    await post(a);
    const again = await open(a, lastEventId);
    expect(again.status).toBe(200);
    const want = expected.get(a.id)!.slice(before);
    const last = JSON.stringify(want.at(-1));
    await again
      .until((events) => received(events).some((e) => JSON.stringify(e) === last))
      .catch(() => undefined);
    // A moment for anything that should not come (a repeat) to show.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expectStream(received(again.events), want, 'resumed stream');
    expect(again.events.some((e) => e.event === 'resync')).toBe(false);
    streams.set(a.id, again);
  });

  it('tells a client away longer than its home is kept watched to resync, then streams on', async () => {
    const user = users[1]!;
    const first = streams.get(user.id)!;
    first.close();
    await first.ended;
    // Longer than the home stays watched: its changes meanwhile are not kept for it.
    await new Promise((resolve) => setTimeout(resolve, keepMs + 1500));
    await post(user);
    // Back once the post is in the home (applied while nobody watched it); a client back before
    // that gets it streamed instead, exactly as well.
    const read = await api.read(`/users/${user.id}/timeline?limit=1`, { token: user.token });
    expect(read.status).toBe(200);
    const again = await open(user, first.lastEventId);
    await again.until((events) => events.some((e) => e.event === 'resync'));
    expect(again.events[0]!.event).toBe('resync');
    // From the resync on, changes stream as before.
    const want = expected.get(user.id)!;
    const mark = want.length;
    await post(user);
    const last = JSON.stringify(want.at(-1));
    await again.until((events) => received(events).some((e) => JSON.stringify(e) === last));
    expect(received(again.events)).toEqual(want.slice(mark));
    streams.set(user.id, again);
  });

  it('tells open streams to resync after a Redis flush, then streams again', async () => {
    const watched = users.slice(0, 3);
    await fixture.stack.flushRedis();
    for (const u of watched)
      await streams.get(u.id)!.until((events) => events.some((e) => e.event === 'resync'), 30_000);
    // Once resynced, new changes stream as before.
    const author = watched[0]!;
    const marks = watched.map((u) => streams.get(u.id)!.events.length);
    await post(author);
    const id = [...model.tweets.keys()].at(-1)!;
    for (const [i, u] of watched.entries()) {
      const stream = streams.get(u.id)!;
      const shouldSee = u.id === author.id || model.isFollowing(u.id, author.id);
      if (!shouldSee) continue;
      await stream.until(
        (events) =>
          events
            .slice(marks[i])
            .some((e) => e.event === 'update' && (JSON.parse(e.data) as { id: string }).id === id),
        30_000,
      );
    }
  });

  it('ends the stream of a user who is deleted', async () => {
    const user = users[7]!;
    const stream = streams.get(user.id)!;
    await deleteUser(user);
    // The token is checked again with every heartbeat (every second here).
    await Promise.race([
      stream.ended,
      new Promise((_, reject) => setTimeout(() => reject(new Error('stream still open')), 10_000)),
    ]);
    expect((await open(user)).status).toBe(401);
  });
});
