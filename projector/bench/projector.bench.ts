/**
 * `npm run bench:projector` (docs/benchmarks.md): the timelines projection on a single Redis and
 * on the local Redis Cluster, and the read model, on a synthetic log. Prints one JSON line per
 * figure, each with its baseline measured in the same run and the ratio; never fails (a section
 * that breaks is noted on stderr and the others run on). The machine is shared: ratios count,
 * absolute figures vary.
 *
 * - replay-read-model: events/s of a foreground replay of the read model, against the same row
 *   changes written by plain batched SQL from a list computed beforehand (rawReadModel.ts).
 * - replay-timelines (single, cluster): entries/s rebuilding a timelines copy, against pipelined
 *   ZADD of the same Redis from a Node client and from redis-benchmark (zaddBaselines.ts), each
 *   measured before and after the replay (their mean).
 * - post-to-timeline (single, cluster) and its breakdown: live posting by the benchmark's own
 *   authors of 100, 1000 and 5000 followers against a bare fan-out (postToTimeline.ts); then
 *   with BENCH_PROCESS_PARTITIONS (4) fan-out partitions in real projector processes, one and
 *   then two (postToTimelineProcesses.ts).
 * - timeline-entry-bytes (single, cluster): MEMORY USAGE per entry of a full home (entryBytes.ts).
 * - listpack-insert-position: newest entry at the tail of a full home vs at its head.
 *
 * Env: BENCH_USERS (10,000), BENCH_TWEETS (50,000), BENCH_FOLLOWS (150,000) shape the log;
 * BENCH_FOLLOWER_TIERS ("100,300,<threshold>"), BENCH_FANOUT_MAX_FOLLOWERS (the product's
 * default threshold), BENCH_AUTHORS_PER_TIER (2), BENCH_POSTS (200),
 * BENCH_POSTS_PER_SECOND (default: BENCH_LOAD_SHARE, 0.4, of the copy's replay rate in fan-out
 * entries per second), BENCH_ROUNDS (4) the live posting, then BENCH_SOLO_POSTS (12) at
 * BENCH_SOLO_POSTS_PER_SECOND (2) by the largest authors alone; BENCH_ZADD_OPS (500,000);
 * TEST_REDIS_CLUSTER_NODES / REDIS_CLUSTER_NODES the cluster (`none`: single server only);
 * BENCH_TARGETS (`single,cluster`) the setups measured; BENCH_SECTIONS the sections (report.ts).
 */
import os from 'node:os';
import { pino } from 'pino';
import {
  createPool,
  homeTimelineCap,
  loadConfig,
  PostgresEventStore,
  Redis,
  timelineKeys,
  type NewEvent,
} from '@tweeter/shared';
import { createTestDatabase, testRedisUrl, uniqueTag } from '@tweeter/shared/testing';
import { ReadModelProjection } from '../src/readModel/readModelProjection.ts';
import { replayToHead } from '../src/runtime/replay.ts';
import { appendAll, LogBuilder } from '../src/testing/eventFactory.ts';
import { buildWorkload, seededRandom } from '../src/testing/syntheticLog.ts';
import { timelines as timelinesDeclaration } from '../src/timelines/index.ts';
import { TimelinesProjection } from '../src/timelines/timelinesProjection.ts';
import { entryBytes, type EntryBytes } from './entryBytes.ts';
import { listpackPosition } from './listpackPosition.ts';
import { postToTimeline, type BenchAuthor } from './postToTimeline.ts';
import { postToTimelineProcesses } from './postToTimelineProcesses.ts';
import { rawReadModelNote, rawReadModelWrites } from './rawReadModel.ts';
import {
  deleteKeys,
  findCluster,
  rawClient,
  serverCpuSeconds,
  settleCluster,
  type RedisTarget,
} from './redisTargets.ts';
import { knob, listKnob, note, print, ratio, round, section } from './report.ts';
import { installStepTracer } from './stepTrace.ts';
import { nodeZaddRate, serverZaddRate } from './zaddBaselines.ts';

const shape = {
  users: knob('users', 10_000),
  tweets: knob('tweets', 50_000),
  follows: knob('follows', 150_000),
};
/**
 * The product's default threshold (BENCH_FANOUT_MAX_FOLLOWERS to study another): the benchmark's
 * authors are fanned out, as the figure is defined for authors within it.
 */
const fanoutMaxFollowers = knob('fanout_max_followers', loadConfig({}).FANOUT_MAX_FOLLOWERS);
/** The home streams' length while live (BENCH_TIMELINE_STREAM_LENGTH=0: no streams, to compare). */
const streamLength = knob('timeline_stream_length', loadConfig({}).TIMELINE_STREAM_LENGTH);
/** TIMELINES_PARTITIONS of the benchmark's copies: none (see copyOn). */
const timelinesPartitions = 0;
const cap = homeTimelineCap;
const version = 'bench';
const keys = timelineKeys(version);
const logger = pino({ level: 'silent' });
const redisUrl = testRedisUrl();
const prefix = `bench:${uniqueTag()}:`;

const single: RedisTarget = { label: 'single', servers: { url: redisUrl } };
const clusterNodes = await findCluster();
/** BENCH_TARGETS (`single,cluster`, the default) picks the Redis setups measured. */
const chosenTargets = listKnob('targets') ?? ['single', 'cluster'];
const cluster: RedisTarget | undefined = clusterNodes && {
  label: 'cluster',
  servers: { url: redisUrl, clusterNodes },
  nodes: clusterNodes,
};
const targets = (cluster ? [single, cluster] : [single]).filter((t) =>
  chosenTargets.includes(t.label),
);
if (!clusterNodes) note('no Redis Cluster: the cluster figures are skipped');

const database = await createTestDatabase();
const store = await PostgresEventStore.connect({ url: database.url, pollIntervalMs: 1000 });
const pool = createPool(database.url, { max: 10 });
const readModel = new ReadModelProjection(pool, 'bench_read_model');
/** Every timelines projection made, by target: reset and closed at the end. */
const copies = new Map<RedisTarget['label'], TimelinesProjection[]>();
/** A projection of the benchmark's copy on `target` (a fresh one per attempt of a section). */
const copyOn = (target: RedisTarget) => {
  const timelines = new TimelinesProjection({
    redis: target.servers,
    redisPrefix: prefix,
    version,
    fanoutMaxFollowers,
    streamLength,
    logger,
    // Homes written by the step itself, in this process: a step's end is then the moment its
    // tweets are in every home. (With fan-out partitions, appliers write them later, elsewhere.)
    partitions: timelinesPartitions,
  });
  copies.set(target.label, [...(copies.get(target.label) ?? []), timelines]);
  return timelines;
};
/** Cluster sections run again once after a failure, when the cluster is ok again. */
const retryOn = (target: RedisTarget) =>
  target.nodes ? { attempts: 2, beforeRetry: () => settleCluster(target) } : {};
const benchStarted = performance.now();

try {
  note(
    `machine: ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (shared with other work)`,
  );

  // 1. The log: the synthetic workload, then the benchmark's authors (exactly 100, 1000, 5000
  //    followers among live users) and a reader who follows enough authors for a full home.
  let started = performance.now();
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
  const deleted = new Set(
    log.events
      .filter((e) => e.type === 'UserDeleted')
      .map((e) => (e.data as { userId: string }).userId),
  );
  const live = built.users.filter((u) => !deleted.has(u));
  /** `n` distinct live users at random (all of them, when there are fewer). */
  const sample = (wanted: number) => {
    const pool = [...live];
    const n = Math.min(wanted, pool.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, n);
  };
  const tiers = (process.env.BENCH_FOLLOWER_TIERS ?? `100,300,${fanoutMaxFollowers - 1}`)
    .split(',')
    // The reader follows every author too: one follower fewer keeps them within the threshold.
    .map((t) => Math.min(Number(t), fanoutMaxFollowers - 1, live.length));
  const authors: BenchAuthor[] = [];
  for (let k = 0; k < knob('authors_per_tier', 2); k++)
    for (const tier of tiers) {
      const id = log.userCreated();
      const followers = sample(tier);
      for (const f of followers) log.followed(f, id);
      authors.push({ id, followers });
    }
  const reader = log.userCreated('benchreader');
  for (const a of [...sample(400), ...authors.map((x) => x.id)]) log.followed(reader, a);
  let events: NewEvent[] | undefined = log.take();
  const eventCount = events.length;
  await appendAll(store, events, 2000);
  events = undefined; // the replays should not carry the built log in this process's heap
  // Let the bulk load settle (flush, statistics) so that the replay measures the projection, not
  // the background work of the load it just made.
  await pool.query('CHECKPOINT');
  await pool.query('VACUUM ANALYZE event_store.events');
  note(
    `log: ${eventCount} events (${built.users.length} users, ${built.edges} follows, ${built.tweets} tweets, authors of ${tiers.join('/')} followers) appended in ${round(performance.now() - started)} ms`,
  );

  // 2. replay-read-model, then right after the same row changes by plain batched SQL.
  await section('replay-read-model', async () => {
    const batchSize = 20_000;
    started = performance.now();
    const rm = await replayToHead(readModel, store, { batchSize });
    const seconds = (performance.now() - started) / 1000;
    const raw = await rawReadModelWrites(pool, store, { batchSize, compareWith: readModel.copy });
    if (raw.rowsDiffering > 0)
      note(`replay-read-model: the raw writes left ${raw.rowsDiffering} rows unlike the replay's`);
    const rate = rm.applied / seconds;
    const baseline = raw.events / raw.seconds;
    print({
      name: 'replay-read-model',
      value: round(rate),
      unit: 'events/s',
      baseline: round(baseline),
      ratio: ratio(rate, baseline),
      baselineNote: rawReadModelNote(batchSize),
      events: rm.applied,
      seconds: round(seconds, 2),
      baselineEvents: raw.events,
      baselineSeconds: round(raw.seconds, 2),
      baselineRowsDiffering: raw.rowsDiffering,
      target: 0.5,
    });
  });

  // 3. replay-timelines on each Redis, with its ZADD limits measured just before.
  const afterReplay = new Map<RedisTarget['label'], EntryBytes>();
  const homeOfReader = `${prefix}${keys.home(reader)}`;
  const scratchOfReader = `${prefix}bytes-baseline:{${reader}}`;
  const replayed = new Set<RedisTarget['label']>();
  const replayRates = new Map<RedisTarget['label'], number>();
  for (const target of targets)
    await section(
      `replay-timelines (${target.label})`,
      async () => {
        const zaddOps = knob('zadd_ops', 500_000);
        // The limits are measured just before the replay and again just after, and their means
        // taken: this machine's speed drifts within a minute, and the replay sits between them.
        const nodeBefore = await nodeZaddRate(target, prefix, zaddOps);
        const serverBefore = await serverZaddRate(target, prefix);
        const timelines = copyOn(target);
        await timelines.reset(); // what a failed attempt left
        const serverCpuBefore = await serverCpuSeconds(target);
        const cpuBefore = process.cpuUsage();
        started = performance.now();
        const tl = await replayToHead(timelines, store, {
          batchSize: timelinesDeclaration.catchUpBatchSize,
        });
        const seconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        const serverCpu = (await serverCpuSeconds(target)) - serverCpuBefore;
        await timelines.close();
        const rate = timelines.stats.entries / seconds;
        const nodeAfter = await nodeZaddRate(target, prefix, zaddOps);
        const serverAfter = serverBefore && (await serverZaddRate(target, prefix));
        const nodeRate = (nodeBefore + nodeAfter) / 2;
        const serverRate = serverBefore && serverAfter && (serverBefore + serverAfter) / 2;
        print({
          name: 'replay-timelines',
          redis: target.label,
          value: round(rate),
          unit: 'entries/s',
          baseline: round(nodeRate),
          ratio: ratio(rate, nodeRate),
          baselineBeforeAfter: [round(nodeBefore), round(nodeAfter)],
          baselineNote:
            target.label === 'single'
              ? "pipelined ZADD from a Node ioredis client (the projector's own client)"
              : 'per-key ZADD from an auto-pipelined Node ioredis Cluster client',
          ...(serverRate
            ? {
                serverBaseline: round(serverRate),
                serverRatio: ratio(rate, serverRate),
                serverBaselineBeforeAfter: [round(serverBefore), round(serverAfter)],
              }
            : {}),
          entries: timelines.stats.entries,
          events: tl.applied,
          seconds: round(seconds, 2),
          // Where the time went: this process's CPU and the Redis servers' (every master's).
          projectorCpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
          redisCpuSeconds: round(serverCpu, 2),
          target: 0.6,
          serverTarget: 0.3,
        });
        replayed.add(target.label);
        replayRates.set(target.label, rate);
        const raw = rawClient(target);
        try {
          afterReplay.set(target.label, await entryBytes(raw, homeOfReader, scratchOfReader));
        } finally {
          raw.disconnect();
        }
      },
      retryOn(target),
    );

  // 4. post-to-timeline on each Redis: live runners, the benchmark's authors posting.
  const tracer = installStepTracer();
  const homesPerPost = authors.reduce((n, a) => n + a.followers.length + 1, 0) / authors.length;
  for (const target of targets) {
    if (!replayed.has(target.label)) continue;
    // Steady posting at a sustainable load: a share of the fan-out rate this copy's replay
    // reached (above it, latency measures the queue, not the fan-out), unless set.
    const postsPerSecond =
      process.env.BENCH_POSTS_PER_SECOND !== undefined
        ? knob('posts_per_second', 20)
        : Math.max(
            1,
            round(
              (knob('load_share', 0.4) * (replayRates.get(target.label) ?? 0)) / homesPerPost,
              1,
            ),
          );
    note(
      `post-to-timeline (${target.label}): ${postsPerSecond} posts/s, ${round(postsPerSecond * homesPerPost)} fan-out entries/s offered`,
    );
    const bare = await section(
      `post-to-timeline (${target.label})`,
      () =>
        postToTimeline({
          target,
          prefix,
          version,
          // A fresh projection: the runner closes it when it stops.
          timelines: copyOn(target),
          readModel,
          store,
          databaseUrl: database.url,
          logger,
          authors,
          posts: knob('posts', 200),
          postsPerSecond,
          rounds: knob('rounds', 4),
          soloPosts: knob('solo_posts', 12),
          soloPostsPerSecond: knob('solo_posts_per_second', 2),
          replayRate: replayRates.get(target.label),
          cap,
          tracer,
          clockAfter: log.now,
          partitions: timelinesPartitions,
        }),
      retryOn(target),
    );
    // 4b. post-to-timeline with fan-out partitions, one then two projector processes.
    await section(`post-to-timeline (${target.label}, projector processes)`, () =>
      postToTimelineProcesses({
        target,
        prefix,
        databaseUrl: database.url,
        store,
        authors,
        partitions: knob('process_partitions', 4),
        fanoutMaxFollowers,
        streamLength,
        posts: knob('posts', 200),
        postsPerSecond,
        clockAfter: log.now + 3_600_000,
        replayRate: replayRates.get(target.label),
        baseline: bare,
      }),
    );
    // 5. timeline-entry-bytes: the reader's full home, after the replay and after live pushes.
    await section(
      `timeline-entry-bytes (${target.label})`,
      async () => {
        const raw = rawClient(target);
        try {
          const now = await entryBytes(raw, homeOfReader, scratchOfReader);
          const fromReplay = afterReplay.get(target.label);
          print({
            name: 'timeline-entry-bytes',
            redis: target.label,
            value: now.bytesPerEntry,
            unit: 'bytes',
            baseline: now.baselineBytesPerEntry,
            ratio: ratio(now.bytesPerEntry, now.baselineBytesPerEntry),
            baselineNote: 'the same entries written by one ZADD into a fresh key',
            entries: now.entries,
            memoryUsage: now.memoryUsage,
            encoding: now.encoding,
            afterReplay: fromReplay?.bytesPerEntry,
            target: 32,
          });
        } finally {
          raw.disconnect();
        }
      },
      retryOn(target),
    );
  }

  // 6. Where the newest entry lands in a full listpack (single server, server-side loop).
  await section('listpack-insert-position', async () => {
    const redis = new Redis(redisUrl);
    try {
      await listpackPosition(redis, prefix, cap);
    } finally {
      redis.disconnect();
    }
  });
} catch (error) {
  note(
    `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
} finally {
  for (const made of copies.values()) {
    await made[0]?.reset().catch(() => undefined);
    for (const timelines of made) await timelines.close();
  }
  for (const target of targets) await deleteKeys(target, prefix).catch(() => undefined);
  await store.close();
  await pool.end();
  await database.drop();
  note(`total: ${round((performance.now() - benchStarted) / 1000, 1)} s`);
}
