/**
 * `npm run bench:projector`: replay throughput of read-model and timelines, live post → timeline
 * latency, and Redis bytes per home-timeline entry, on a synthetic log. Prints one JSON line per
 * figure (performance.md); never fails. Figures are ratios against limits measured in the same run
 * where the brief defines a limit; the machine is shared, so absolute figures vary.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import {
  createPool,
  encodeTimelineMember,
  PostgresEventStore,
  timelineKeys,
  type NewEvent,
  type Position,
} from '@tweeter/shared';
import {
  createTestDatabase,
  deleteRedisKeys,
  testRedisUrl,
  uniqueTag,
} from '@tweeter/shared/testing';
import { ReadModelProjection } from '../src/readModel/readModelProjection.ts';
import { replayToHead } from '../src/runtime/replay.ts';
import { ProjectionRunner } from '../src/runtime/runner.ts';
import { appendAll, LogBuilder } from '../src/testing/eventFactory.ts';
import { buildWorkload, seededRandom } from '../src/testing/syntheticLog.ts';
import { TimelinesProjection } from '../src/timelines/timelinesProjection.ts';

const arg = (name: string, fallback: number) => {
  const v = process.env[`BENCH_${name.toUpperCase()}`];
  return v ? Number(v) : fallback;
};
const shape = {
  users: arg('users', 10_000),
  tweets: arg('tweets', 200_000),
  follows: arg('follows', 200_000),
};
const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const note = (text: string) => console.error(`# ${text}`);
const round = (x: number, digits = 0) => Number(x.toFixed(digits));
const logger = pino({ level: 'silent' });
const redisUrl = testRedisUrl();
const prefix = `bench:${uniqueTag()}:`;

const database = await createTestDatabase();
const store = await PostgresEventStore.connect({ url: database.url, pollIntervalMs: 1000 });
const pool = createPool(database.url, { max: 10 });
const redis = new Redis(redisUrl, { keyPrefix: prefix });
const timelines = new TimelinesProjection({
  redis: { url: redisUrl },
  redisPrefix: prefix,
  version: 'bench',
  fanoutMaxFollowers: 10_000,
  logger,
});
const readModel = new ReadModelProjection(pool, 'bench_read_model');

try {
  note(
    `machine: ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (shared with other work)`,
  );
  // 1. The log.
  let started = Date.now();
  const log = new LogBuilder(Date.parse('2026-01-01T00:00:00.000Z'), 10);
  const random = seededRandom(42);
  const built = buildWorkload(
    log,
    {
      ...shape,
      followsFirst: 0.7,
      unfollows: shape.follows / 100,
      tweetDeletions: shape.tweets / 100,
      userDeletions: shape.users / 200,
      profileUpdates: shape.users / 10,
    },
    random,
  );
  let events: NewEvent[] | undefined = log.take();
  const eventCount = events.length;
  await appendAll(store, events, 2000);
  events = undefined; // the replays should not carry the built log in this process's heap
  // Let the bulk load settle (flush, statistics) so that the replay measures the projection, not
  // the background work of the load it just made.
  await pool.query('CHECKPOINT');
  await pool.query('VACUUM ANALYZE event_store.events');
  note(
    `log: ${eventCount} events (${built.users.length} users, ${built.edges} follows, ${built.tweets} tweets) appended in ${Date.now() - started} ms`,
  );

  // 2. replay-read-model.
  started = performance.now();
  const rm = await replayToHead(readModel, store, { batchSize: 20_000 });
  let seconds = (performance.now() - started) / 1000;
  print({
    name: 'replay-read-model',
    value: round(rm.applied / seconds),
    unit: 'events/s',
    events: rm.applied,
    seconds: round(seconds, 2),
    target: 50_000,
  });

  // 3. Raw fan-out limit: pipelined ZADD of the same member/score shape into as many keys.
  const baselineKeys = Math.min(shape.users, 10_000);
  const baselineOps = 1_000_000;
  const members = Array.from({ length: 1000 }, () => randomBytes(16));
  started = performance.now();
  for (let done = 0; done < baselineOps;) {
    const p = redis.pipeline();
    for (let i = 0; i < 10_000; i++, done++)
      p.zadd(
        `zadd-baseline:${done % baselineKeys}`,
        1_767_225_600_000 + done,
        members[done % 1000]!,
      );
    await p.exec();
  }
  const baseline = baselineOps / ((performance.now() - started) / 1000);
  for (let i = 0; i < baselineKeys; i += 1000)
    await redis.del(
      ...Array.from(
        { length: Math.min(1000, baselineKeys - i) },
        (_, j) => `zadd-baseline:${i + j}`,
      ),
    );

  // The server's own limit, without a Node client in the way: redis-benchmark, when installed.
  let serverBaseline: number | undefined;
  try {
    const { hostname, port } = new URL(redisUrl);
    const tag = `${prefix}zb:`;
    const out = execFileSync(
      'redis-benchmark',
      [
        '-h',
        hostname,
        '-p',
        port || '6379',
        '-q',
        '-n',
        '1000000',
        '-P',
        '64',
        '-r',
        '10000',
        'zadd',
        `${tag}__rand_int__`,
        '__rand_int__',
        'm__rand_int__',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const match = /([\d.]+) requests per second/.exec(out);
    if (match) serverBaseline = Number(match[1]);
    await deleteRedisKeys(redisUrl, tag);
  } catch {
    note('redis-benchmark not available: only the Node-client baseline is reported');
  }

  // 4. replay-timelines.
  started = performance.now();
  const tl = await replayToHead(timelines, store, { batchSize: 10_000 });
  seconds = (performance.now() - started) / 1000;
  const rate = timelines.stats.entries / seconds;
  print({
    name: 'replay-timelines',
    value: round(rate),
    unit: 'entries/s',
    baseline: round(baseline),
    ratio: round(rate / baseline, 2),
    baselineNote: "pipelined ZADD from a Node ioredis client (the projector's own client)",
    ...(serverBaseline
      ? { serverBaseline: round(serverBaseline), serverRatio: round(rate / serverBaseline, 3) }
      : {}),
    entries: timelines.stats.entries,
    events: tl.applied,
    seconds: round(seconds, 2),
    target: 0.3,
  });

  // 5. timeline-entry-bytes: a reader following the 100 most followed authors has a full timeline.
  const { rows: top } = await pool.query<{ id: string; followers_count: number }>(
    `SELECT id, followers_count FROM bench_read_model.users ORDER BY followers_count DESC LIMIT 200`,
  );
  const reader = log.userCreated('benchreader');
  for (const a of top.slice(0, 100)) log.followed(reader, a.id);
  await appendAll(store, log.take(), 500);
  await replayToHead(timelines, store, { batchSize: 2000 });
  const keys = timelineKeys('bench');
  const entries = await redis.zcard(keys.home(reader));
  const bytes = Number(
    await redis.call('MEMORY', 'USAGE', `${prefix}${keys.home(reader)}`, 'SAMPLES', '0'),
  );
  const encoding = await redis.call('OBJECT', 'ENCODING', `${prefix}${keys.home(reader)}`);
  print({
    name: 'timeline-entry-bytes',
    value: round(bytes / entries, 1),
    unit: 'bytes',
    entries,
    memoryUsage: bytes,
    encoding,
    target: 40,
  });

  // 6. post-to-timeline: live runners for both Postgres and Redis projections; a steady posting
  //    load by well-followed authors; latency from the append until the tweet is in every
  //    follower's home. The fan-out of a tweet commits in one MULTI/EXEC, so it appears in every
  //    follower's home at the same instant: probing one follower's home observes all of them.
  await replayToHead(readModel, store, { batchSize: 5000 });
  const runners = [timelines, readModel].map(
    (projection) =>
      new ProjectionRunner({
        projection,
        eventStore: store,
        databaseUrl: database.url,
        logger,
        batchSize: 2000,
      }),
  );
  for (const r of runners) r.start();
  await new Promise((r) => setTimeout(r, 1500));
  // The 200 most followed authors (hundreds to thousands of followers each) post in turn.
  const authors = top;
  const followerOf = new Map<string, string>();
  for (const a of authors) {
    const { rows } = await pool.query<{ follower_id: string }>(
      `SELECT follower_id FROM bench_read_model.follows WHERE followee_id = $1 ORDER BY followed_at DESC LIMIT 1`,
      [a.id],
    );
    if (rows[0]) followerOf.set(a.id, rows[0].follower_id);
  }
  const latencies: number[] = [];
  const visible: number[] = [];
  const projection: number[] = [];
  const postsPerSecond = arg('posts_per_second', 20);
  const durationMs = arg('post_seconds', 10) * 1000;
  // Also when the append became readable in the log (the event store's visibility horizon: any
  // older transaction still open in the cluster delays it), to tell the log's share of the latency
  // from the projection's.
  const probe = async (author: string, tweetId: string, t0: number, position: Position) => {
    const follower = followerOf.get(author)!;
    const member = encodeTimelineMember(tweetId);
    let seen: number | undefined;
    while (performance.now() - t0 < 5000) {
      if (seen === undefined) {
        const head = await store.headPosition();
        if (head !== null && head >= position) seen = performance.now();
      }
      if ((await redis.zscore(keys.home(follower), member)) !== null) {
        const now = performance.now();
        latencies.push(now - t0);
        visible.push((seen ?? now) - t0);
        projection.push(now - (seen ?? now));
        return;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    latencies.push(5000);
  };
  const probes: Promise<void>[] = [];
  let fanOut = 0;
  const liveLog = new LogBuilder(Date.now());
  // The runners share this process with the load generator: a stalled event loop (GC) shows here.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const loadStart = performance.now();
  for (let i = 0; performance.now() - loadStart < durationMs; i++) {
    const author = authors[i % authors.length]!.id;
    if (!followerOf.has(author)) continue;
    const tweetId = liveLog.tweetPosted(author);
    const t0 = performance.now();
    const position = (await appendAll(store, liveLog.take(), 1))!;
    fanOut += authors[i % authors.length]!.followers_count;
    probes.push(probe(author, tweetId, t0, position));
    const next = loadStart + ((i + 1) * 1000) / postsPerSecond;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await Promise.all(probes);
  loopDelay.disable();
  await Promise.all(runners.map((r) => r.stop()));
  for (const xs of [latencies, visible, projection]) xs.sort((a, b) => a - b);
  const pctOf = (xs: number[], p: number) =>
    xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
  const pct = (p: number) => pctOf(latencies, p);
  print({
    name: 'post-to-timeline',
    p50: round(pct(0.5), 1),
    p99: round(pct(0.99), 1),
    unit: 'ms',
    tweets: latencies.length,
    postsPerSecond,
    followers: { max: top[0]?.followers_count, min: authors.at(-1)?.followers_count },
    fanOutEntriesPerSecond: round(fanOut / (durationMs / 1000)),
    logVisibleP50: round(pctOf(visible, 0.5), 1),
    logVisibleP99: round(pctOf(visible, 0.99), 1),
    projectionP50: round(pctOf(projection, 0.5), 1),
    projectionP99: round(pctOf(projection, 0.99), 1),
    eventLoopDelayMaxMs: round(loopDelay.max / 1e6, 1),
    eventLoopDelayP99Ms: round(loopDelay.percentile(99) / 1e6, 1),
    target: 100,
  });
} catch (error) {
  note(
    `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
} finally {
  await timelines.reset().catch(() => undefined);
  await timelines.close();
  redis.disconnect();
  await store.close();
  await pool.end();
  await database.drop();
}
