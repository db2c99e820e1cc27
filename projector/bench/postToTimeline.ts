/**
 * `post-to-timeline`: latency from the append of a TweetPosted until the step of the timelines
 * projection that contains it has completed (its entry is in every follower's home and the step's
 * checkpoint is stored: stepTrace.ts), for authors with FANOUT_MAX_FOLLOWERS followers or fewer,
 * under steady open-loop posting, with the live projector's runners (timelines and read model) in
 * this one process.
 *
 * Baseline, in alternating rounds of the same run: a bare ioredis client writing the same kind of
 * entry into copies of the same homes (COPY of each home key, so sizes and encodings match), one
 * ZADD + ZREMRANGEBYRANK trim per home: one pipeline on one server, per-key auto-pipelined commands
 * on a cluster (one round trip per master). Its latency is from issuing to the last reply.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  Cluster,
  comparePositions,
  encodeHomeMember,
  homeScore,
  Redis,
  timelineKeys,
  type EventStore,
  type Logger,
  type RedisClient,
} from '@tweeter/shared';
import type { ReadModelProjection } from '../src/readModel/readModelProjection.ts';
import { ProjectionRunner } from '../src/runtime/runner.ts';
import { appendAll, LogBuilder, uuidv7 } from '../src/testing/eventFactory.ts';
import type { TimelinesProjection } from '../src/timelines/timelinesProjection.ts';
import { rawClient, type RedisTarget } from './redisTargets.ts';
import { note, p50p99, print, quantile, ratio, round, sleep } from './report.ts';
import type { StepTracer, TweetTrace } from './stepTrace.ts';

/** An author of the benchmark's own, with exactly `followers.length` followers. */
export interface BenchAuthor {
  id: string;
  followers: string[];
}

export interface PostToTimelineOptions {
  target: RedisTarget;
  prefix: string;
  version: string;
  /** This target's copy, caught up or nearly; the runner started here closes it when it stops. */
  timelines: TimelinesProjection;
  readModel: ReadModelProjection;
  store: EventStore;
  databaseUrl: string;
  logger: Logger;
  authors: BenchAuthor[];
  /** Posts through the log (and as many bare ones), split over `rounds` alternating rounds. */
  posts: number;
  postsPerSecond: number;
  rounds: number;
  /** Then posts by the largest authors alone, slowly (each in a batch of its own), and bare ones. */
  soloPosts: number;
  soloPostsPerSecond: number;
  /** This target's replay rate (entries/s), to set the offered fan-out against. */
  replayRate?: number | undefined;
  cap: number;
  tracer: StepTracer;
  /** The live clock starts after every entry of the log (new entries are the newest). */
  clockAfter: number;
  /** The copy's fan-out partitions (0: the step writes the homes, so its end is the figure's). */
  partitions: number;
}

interface Sample {
  followers: number;
  latency: number;
  /** The log path: when the append returned, and the trace of the tweet's step. */
  appended?: number;
  t0: number;
  trace?: TweetTrace;
  /** The bare path: the synchronous part (building the pipeline or the commands). */
  issue?: number;
}

const timeoutMs = 15_000;
const now = () => performance.now();

/**
 * Runs the live rounds on one target and prints `post-to-timeline` and its breakdown; returns the
 * bare client's latency.
 */
export async function postToTimeline(
  o: PostToTimelineOptions,
): Promise<{ p50: number; p99: number }> {
  const keys = timelineKeys(o.version);
  const homeKey = (user: string) => `${o.prefix}${keys.home(user)}`;
  // In the home's slot (its group's hash tag), so that COPY can make it.
  const bareKey = (user: string) => `${o.prefix}bare:${keys.home(user)}`;
  const homesOf = (a: BenchAuthor) => [a.id, ...a.followers];
  const raw = rawClient(o.target);
  // The bare client: an explicit pipeline on its own connection, or the auto-pipelined cluster.
  const bare: RedisClient =
    o.target.label === 'single'
      ? new Redis(o.target.servers.url, { enableAutoPipelining: false })
      : raw;
  o.tracer.attach(o.timelines);
  const runners = [o.timelines, o.readModel].map(
    (projection) =>
      new ProjectionRunner({
        projection,
        eventStore: o.store,
        databaseUrl: o.databaseUrl,
        logger: o.logger,
        batchSize: 2000,
      }),
  );
  for (const r of runners) r.start();
  const liveLog = new LogBuilder(Math.max(Date.now(), o.clockAfter + 60_000));
  const lastTweet = new Map<string, string>();
  try {
    // Caught up with whatever the log holds (the other target's live tweets, for one).
    const caughtUpBy = now() + 120_000;
    const head = await o.store.headPosition();
    while (comparePositions(await o.timelines.checkpoint(), head) < 0) {
      if (now() > caughtUpBy) throw new Error('the timelines runner did not catch up in 120 s');
      await sleep(200);
    }
    // The bare baseline's homes: copies of the same homes, same slot (same hash tag).
    const homes = [...new Set(o.authors.flatMap(homesOf))];
    await Promise.all(homes.map((u) => raw.copy(homeKey(u), bareKey(u), 'REPLACE')));

    const viaLog = async (author: BenchAuthor): Promise<Sample> => {
      liveLog.now = Math.max(liveLog.now, Date.now());
      const tweetId = liveLog.tweetPosted(author.id);
      const stepDone = o.tracer.stepOf(tweetId, timeoutMs);
      const t0 = now();
      await appendAll(o.store, liveLog.take(), 1);
      const appended = now();
      const trace = await stepDone;
      if (trace) lastTweet.set(author.id, tweetId);
      return {
        followers: author.followers.length,
        latency: trace ? trace.step.end - t0 : timeoutMs,
        t0,
        appended,
        ...(trace ? { trace } : {}),
      };
    };
    const bareScore = { now: liveLog.now };
    const direct = async (author: BenchAuthor): Promise<Sample> => {
      bareScore.now = Math.max(bareScore.now + 1, Date.now());
      // The homes' own layout (newest first: timelineKeys.ts), as the projection writes them.
      const member = encodeHomeMember(uuidv7(bareScore.now));
      const score = homeScore(bareScore.now);
      const t0 = now();
      let issue: number;
      if (bare instanceof Cluster) {
        const writes: Promise<unknown>[] = [];
        for (const u of homesOf(author))
          writes.push(
            bare.zadd(bareKey(u), score, member),
            bare.zremrangebyrank(bareKey(u), o.cap, -1),
          );
        issue = now() - t0;
        await Promise.all(writes);
      } else {
        const p = bare.pipeline();
        for (const u of homesOf(author))
          p.zadd(bareKey(u), score, member).zremrangebyrank(bareKey(u), o.cap, -1);
        issue = now() - t0;
        const replies = (await p.exec()) ?? [];
        const failed = replies.find(([error]) => error);
        if (failed) throw failed[0]!;
      }
      return { followers: author.followers.length, latency: now() - t0, t0, issue };
    };
    /** `n` posts at `rate` per second, open loop (a slow one does not delay the next). */
    const postRound = async (
      post: (a: BenchAuthor) => Promise<Sample>,
      n: number,
      from: number,
      authors = o.authors,
      rate = o.postsPerSecond,
    ) => {
      const start = now();
      const pending: Promise<Sample>[] = [];
      for (let i = 0; i < n; i++) {
        await sleep(start + (i * 1000) / rate - now());
        pending.push(post(authors[(from + i) % authors.length]!));
      }
      return Promise.all(pending);
    };

    // Warm-up, not counted: the runner's follow-graph cache loads each author's followers once.
    await postRound(viaLog, o.authors.length, 0);
    await postRound(direct, o.authors.length, 0);

    const logged: Sample[] = [];
    const bareSamples: Sample[] = [];
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const perRound = Math.ceil(o.posts / o.rounds);
    for (let r = 0, done = 0; done < o.posts; r++, done += perRound) {
      const n = Math.min(perRound, o.posts - done);
      // Alternate which goes first, so neither always follows the other's leftovers.
      if (r % 2 === 0) {
        logged.push(...(await postRound(viaLog, n, done)));
        bareSamples.push(...(await postRound(direct, n, done)));
      } else {
        bareSamples.push(...(await postRound(direct, n, done)));
        logged.push(...(await postRound(viaLog, n, done)));
      }
    }
    loopDelay.disable();
    // Solo: the largest authors alone, slowly: each post in a batch of its own, nothing queued.
    const largest = Math.max(...o.authors.map((a) => a.followers.length));
    const soloAuthors = o.authors.filter((a) => a.followers.length === largest);
    const solo = (post: (a: BenchAuthor) => Promise<Sample>) =>
      postRound(post, o.soloPosts, 0, soloAuthors, o.soloPostsPerSecond);
    const soloLogged = await solo(viaLog);
    const soloBare = await solo(direct);

    // Every home got it: the last tweet of each author, in each of its homes.
    let missing = 0;
    let checked = 0;
    for (const author of o.authors) {
      const tweetId = lastTweet.get(author.id);
      if (!tweetId) continue;
      const member = encodeHomeMember(tweetId);
      const scores = await Promise.all(homesOf(author).map((u) => raw.zscore(homeKey(u), member)));
      checked += scores.length;
      missing += scores.filter((s) => s === null).length;
    }

    const tiers = [...new Set(o.authors.map((a) => a.followers.length))].sort((a, b) => a - b);
    const lat = (xs: Sample[]) => xs.map((s) => s.latency);
    const ours = p50p99(lat(logged));
    const theirs = p50p99(lat(bareSamples));
    const homesPerPost = logged.reduce((n, s) => n + s.followers + 1, 0) / logged.length;
    print({
      name: 'post-to-timeline',
      redis: o.target.label,
      processes: 1,
      partitions: o.partitions,
      unit: 'ms',
      value: ours.p99,
      p50: ours.p50,
      p99: ours.p99,
      baseline: theirs.p99,
      baselineP50: theirs.p50,
      baselineP99: theirs.p99,
      ratio: ratio(ours.p99, theirs.p99),
      ratioP50: ratio(ours.p50, theirs.p50),
      target: 1.5,
      targetMs: 100,
      tweets: logged.length,
      timedOut: logged.filter((s) => !s.trace).length,
      postsPerSecond: o.postsPerSecond,
      rounds: o.rounds,
      followers: tiers,
      fanOutEntriesPerSecond: round(homesPerPost * o.postsPerSecond),
      offeredShareOfReplayRate: ratio(homesPerPost * o.postsPerSecond, o.replayRate),
      batchEventsP50: round(
        quantile(
          traced(logged).map((s) => s.trace.batch.events),
          0.5,
        ),
      ),
      byFollowers: Object.fromEntries(
        tiers.map((t) => {
          const a = p50p99(lat(logged.filter((s) => s.followers === t)));
          const b = p50p99(lat(bareSamples.filter((s) => s.followers === t)));
          return [t, { p50: a.p50, p99: a.p99, baselineP50: b.p50, baselineP99: b.p99 }];
        }),
      ),
      homesChecked: checked,
      homesMissing: missing,
      eventLoopDelayP99Ms: round(loopDelay.percentile(99) / 1e6, 1),
      eventLoopDelayMaxMs: round(loopDelay.max / 1e6, 1),
      measuredTo: 'completion of the projection step that contains the tweet',
      baselineNote:
        o.target.label === 'single'
          ? 'bare ioredis client: one pipeline of ZADD + ZREMRANGEBYRANK per home, same homes (copies)'
          : 'bare ioredis Cluster client: per-key ZADD + ZREMRANGEBYRANK, auto-pipelined, same homes (copies)',
    });
    breakdown(o, 'steady', largest, logged, bareSamples);
    breakdown(o, 'solo', largest, soloLogged, soloBare);
    return theirs;
  } finally {
    await Promise.all(runners.map((r) => r.stop()));
    if (bare !== raw) bare.disconnect();
    raw.disconnect();
  }
}

type Traced = Sample & { trace: TweetTrace; appended: number };
const traced = (xs: Sample[]): Traced[] =>
  xs.filter((s): s is Traced => s.trace !== undefined && s.appended !== undefined);

/**
 * Where the time of the largest authors' posts goes: the log, waiting behind the previous batch,
 * planning, the Redis writes. `steady`: the posts of the steady rounds; `solo`: the largest
 * authors posting alone and slowly, so nothing queues.
 */
function breakdown(
  o: PostToTimelineOptions,
  posting: 'steady' | 'solo',
  tier: number,
  logged: Sample[],
  bare: Sample[],
) {
  const ours = traced(logged).filter((s) => s.followers === tier);
  if (ours.length === 0) {
    note(`post-to-timeline-breakdown (${o.target.label}, ${posting}): no traced post`);
    return;
  }
  const parts = ours.map(({ t0, appended, trace: { batch, step, planStart } }) => {
    const waited = Math.max(0, Math.min(batch.previousEnd, batch.start) - appended);
    const segments = {
      append: appended - t0,
      queue: waited,
      logToApply: Math.max(0, batch.start - appended - waited),
      load: batch.loadEnd - batch.loadStart,
      earlierSteps: planStart - batch.loadEnd,
      plan: step.start - planStart,
      metaBusy: step.metas[0] ? step.metas[0][1] - step.metas[0][0] : 0,
      homesIssue: step.homesIssued - step.homesStart,
      homesWait: step.homesEnd - step.homesIssued,
      effectsAndCheckpoint: step.end - step.homesEnd,
    };
    const total = step.end - t0;
    const sum = Object.values(segments).reduce((a, b) => a + b, 0);
    return {
      ...segments,
      other: total - sum,
      total,
      planning: segments.load + segments.plan,
      redisWrites:
        segments.metaBusy +
        segments.homesIssue +
        segments.homesWait +
        segments.effectsAndCheckpoint,
      metaTotal: step.metas.reduce((n, [a, b]) => n + (b - a), 0),
      batchEvents: batch.events,
      homes: step.homes,
    };
  });
  type Part = keyof (typeof parts)[number];
  const p50 = (k: Part) =>
    round(
      quantile(
        parts.map((p) => p[k]),
        0.5,
      ),
      1,
    );
  const segments = [
    'append',
    'queue',
    'logToApply',
    'load',
    'earlierSteps',
    'plan',
    'metaBusy',
    'homesIssue',
    'homesWait',
    'effectsAndCheckpoint',
    'other',
    'total',
  ] as const;
  const theirs = bare.filter((s) => s.followers === tier);
  const bareP50 = round(
    quantile(
      theirs.map((s) => s.latency),
      0.5,
    ),
    1,
  );
  print({
    name: 'post-to-timeline-breakdown',
    redis: o.target.label,
    processes: 1,
    partitions: o.partitions,
    posting,
    followers: tier,
    unit: 'ms',
    tweets: ours.length,
    value: p50('total'),
    baseline: bareP50,
    ratio: ratio(p50('total'), bareP50),
    p50: Object.fromEntries(segments.map((k) => [k, p50(k)])),
    planningP50: p50('planning'),
    redisWritesP50: p50('redisWrites'),
    planningShare: ratio(p50('planning'), p50('total')),
    redisWritesShare: ratio(p50('redisWrites'), p50('total')),
    metaRoundTripsP50: p50('metaTotal'),
    baselineIssueP50: round(
      quantile(
        theirs.map((s) => s.issue ?? NaN),
        0.5,
      ),
      1,
    ),
    homesPerStep: p50('homes'),
    batchEventsP50: p50('batchEvents'),
    note:
      `p50 per segment of a post by an author of ${tier} followers (${posting === 'solo' ? 'posting alone, slowly: nothing queued' : 'in the steady rounds'}): ` +
      'append (event store); queue (behind the previous batch); logToApply (wake-up, read, ' +
      'decode); load (follow graph, cached); earlierSteps (of the same batch); plan (the rules, ' +
      'CPU); metaBusy (first meta update); homesIssue (encoding and issuing the home-script ' +
      'calls, CPU); homesWait (Redis runs them, replies); effectsAndCheckpoint (author list, ' +
      'meta). planning = load + plan; redisWrites = the last four. baseline = the bare fan-out ' +
      'p50 to the same homes, baselineIssueP50 its synchronous part.',
  });
}
