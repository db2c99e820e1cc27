/**
 * `post-to-timeline` with fan-out partitions shared by real projector processes: one process, then
 * a second started beside it (it takes a share of the partitions, as `PROJECTOR_PROCESSES=2 npm
 * start` runs them). Latency is from the append of a TweetPosted until every partition's
 * checkpoint has passed it: a partition's checkpoint moves only after its homes of the step are
 * written, so that is the moment the tweet is in every follower's home. The processes run the
 * timelines projection alone (PROJECTOR_PROJECTIONS), into a copy of their own that they first
 * rebuild from the benchmark's log, so the homes are as full as those of the other figures.
 *
 * Baseline: the bare client's p99 measured by the in-process post-to-timeline section of the same
 * run (the same authors' homes, one pipeline of ZADD + trim per post).
 *
 * `split` says where a post's time went, in wall-clock ms: `append` (the append answered),
 * `publish` (until the last partition's chunk of it was added to its stream: the planner read the
 * log, planned and published the step), `apply` (until that chunk's applier moved the partition
 * on: its homes written), `seen` (until this poller saw it). The chunk times are those of the
 * last chunk each partition took when the poll saw the post done: exact while posts do not
 * overlap, an upper bound of the post's own when they do.
 */
import { comparePositions, timelineKeys, type EventStore, type Position } from '@tweeter/shared';
import { freePort, testNatsPrefix, testNatsUrl } from '@tweeter/shared/testing';
import type { RunnerStatus } from '../src/runtime/runner.ts';
import { appendAll, LogBuilder } from '../src/testing/eventFactory.ts';
import { ProjectorProcess } from '../src/testing/projectorProcess.ts';
import type { BenchAuthor } from './postToTimeline.ts';
import { deleteKeys, rawClient, type RedisTarget } from './redisTargets.ts';
import { note, p50p99, print, ratio, round, sleep } from './report.ts';

export interface ProcessesOptions {
  target: RedisTarget;
  /** A prefix of the run's own: the processes' copy lives under `<prefix>procs:`. */
  prefix: string;
  databaseUrl: string;
  store: EventStore;
  authors: BenchAuthor[];
  partitions: number;
  fanoutMaxFollowers: number;
  /** TIMELINE_STREAM_LENGTH of the processes. */
  streamLength: number;
  posts: number;
  postsPerSecond: number;
  /** The live clock starts after every entry of the log (new entries are the newest). */
  clockAfter: number;
  /** This target's replay rate (entries/s), to set the offered fan-out against. */
  replayRate?: number | undefined;
  /** The bare client's latency from the in-process section of this run, when it ran. */
  baseline?: { p50: number; p99: number } | undefined;
}

const timeoutMs = 15_000;

/** A post waiting for every partition; `chunks`: when the poll saw it, see `split` above. */
interface Waiting {
  position: Position;
  done: (at: number) => void;
  chunks?: { published: number; applied: number; seen: number };
}
const now = () => performance.now();
const timelinesOf = (s: RunnerStatus[] | null) => s?.find((p) => p.name === 'timelines');
const held = (s: RunnerStatus[] | null) =>
  (timelinesOf(s)?.partitions ?? []).filter((p) => p.state === 'held').length;

export async function postToTimelineProcesses(o: ProcessesOptions): Promise<void> {
  const prefix = `${o.prefix}procs:`;
  const keys = timelineKeys('v1');
  const { url, clusterNodes } = o.target.servers;
  const env = {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: url,
    ...(clusterNodes ? { REDIS_CLUSTER_NODES: clusterNodes.join(',') } : {}),
    REDIS_PREFIX: prefix,
    NATS_URL: testNatsUrl(),
    NATS_PREFIX: testNatsPrefix(),
    PROJECTOR_PROJECTIONS: 'timelines',
    TIMELINES_PARTITIONS: String(o.partitions),
    FANOUT_MAX_FOLLOWERS: String(o.fanoutMaxFollowers),
    TIMELINE_STREAM_LENGTH: String(o.streamLength),
    LOG_LEVEL: 'warn',
  };
  const homesPerPost = o.authors.reduce((n, a) => n + a.followers.length + 1, 0) / o.authors.length;
  const redis = rawClient(o.target);
  const processes: ProjectorProcess[] = [];
  const liveLog = new LogBuilder(Math.max(Date.now(), o.clockAfter + 120_000));
  // Every partition's checkpoint, polled by one loop for all the posts waiting on it.
  const waiting = new Set<Waiting>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      if (waiting.size > 0) {
        const fields = await Promise.all(
          Array.from({ length: o.partitions }, (_, p) =>
            redis.hmget(`${prefix}${keys.partition(p)}`, 'checkpoint', 'lastId', 'at'),
          ),
        );
        const at = now();
        const checkpoints = fields.map(([checkpoint]) => checkpoint);
        const chunks = {
          // A stream entry's id starts with the time it was added; `at` is set by the applier.
          published: Math.max(...fields.map(([, id]) => Number((id ?? '0').split('-')[0]))),
          applied: Math.max(...fields.map(([, , applied]) => Number(applied ?? 0))),
          seen: Date.now(),
        };
        const least = checkpoints.some((c) => c === null)
          ? null
          : (checkpoints.reduce((a, b) => (a! < b! ? a : b)) as Position);
        for (const w of waiting)
          if (least !== null && comparePositions(least, w.position) >= 0) {
            waiting.delete(w);
            w.chunks = chunks;
            w.done(at);
          }
      }
      await sleep(2);
    }
  })();
  const start = async () => {
    const p = new ProjectorProcess(await freePort(), env);
    processes.push(p);
    p.start();
    return p;
  };
  try {
    const started = now();
    const first = await start();
    const head = await o.store.headPosition();
    await first.waitFor(
      (s) =>
        comparePositions(timelinesOf(s)?.checkpoint ?? null, head) >= 0 && held(s) === o.partitions,
      600_000,
      'the copy rebuilt from the log',
      500,
    );
    note(
      `post-to-timeline (${o.target.label}, processes): the processes' copy rebuilt in ${round((now() - started) / 1000, 1)} s`,
    );

    const post = async (author: BenchAuthor) => {
      liveLog.now = Math.max(liveLog.now, Date.now());
      liveLog.tweetPosted(author.id);
      const t0 = now();
      const sent = Date.now();
      const position = (await appendAll(o.store, liveLog.take(), 1))!;
      const appended = Date.now();
      let wait: Waiting | undefined;
      const at = await Promise.race([
        new Promise<number>((done) => waiting.add((wait = { position, done }))),
        sleep(timeoutMs).then(() => undefined),
      ]);
      if (wait) waiting.delete(wait);
      const chunks = wait?.chunks;
      return {
        split: chunks && {
          append: appended - sent,
          publish: chunks.published - appended,
          apply: chunks.applied - chunks.published,
          seen: chunks.seen - chunks.applied,
        },
        followers: author.followers.length,
        latency: at === undefined ? timeoutMs : at - t0,
        timedOut: at === undefined,
      };
    };
    const postRound = async (n: number) => {
      const begin = now();
      const pending = [];
      for (let i = 0; i < n; i++) {
        await sleep(begin + (i * 1000) / o.postsPerSecond - now());
        pending.push(post(o.authors[i % o.authors.length]!));
      }
      return Promise.all(pending);
    };

    for (const count of [1, 2]) {
      if (count === 2) {
        const second = await start();
        await second.waitFor((s) => held(s) > 0, 30_000, 'a share of the partitions taken');
        await first.waitFor((s) => held(s) < o.partitions, 30_000, 'a share given up');
      }
      await postRound(o.authors.length); // warm-up: each author's followers loaded once
      const before = await Promise.all(processes.map(processMetrics)); // (starts the lag's window)
      const samples = await postRound(o.posts);
      const after = await Promise.all(processes.map(processMetrics));
      const ours = p50p99(samples.map((s) => s.latency));
      const split = Object.fromEntries(
        (['append', 'publish', 'apply', 'seen'] as const).map((part) => [
          part,
          p50p99(samples.flatMap((s) => (s.split ? [s.split[part]] : []))),
        ]),
      );
      const shares = await Promise.all(processes.map(async (p) => held(await p.status())));
      const tiers = [...new Set(o.authors.map((a) => a.followers.length))].sort((a, b) => a - b);
      print({
        name: 'post-to-timeline',
        redis: o.target.label,
        processes: count,
        partitions: o.partitions,
        partitionsHeld: shares,
        unit: 'ms',
        value: ours.p99,
        p50: ours.p50,
        p99: ours.p99,
        baseline: o.baseline?.p99,
        baselineP50: o.baseline?.p50,
        ratio: ratio(ours.p99, o.baseline?.p99),
        target: 1.5,
        targetMs: 100,
        split,
        tweets: samples.length,
        timedOut: samples.filter((s) => s.timedOut).length,
        postsPerSecond: o.postsPerSecond,
        offeredShareOfReplayRate: ratio(homesPerPost * o.postsPerSecond, o.replayRate),
        followers: tiers,
        byFollowers: Object.fromEntries(
          tiers.map((t) => [
            t,
            p50p99(samples.filter((s) => s.followers === t).map((s) => s.latency)),
          ]),
        ),
        // Each process during the measured round: its event loop's longest stall, its CPU.
        processesEventLoopLagMaxMs: after.map((m) => round(m.lagMaxSeconds * 1000, 1)),
        processesCpuSeconds: after.map((m, i) => round(m.cpuSeconds - before[i]!.cpuSeconds, 2)),
        measuredTo: 'every fan-out partition’s checkpoint past the tweet (its homes written)',
        baselineNote:
          'the bare client of the in-process post-to-timeline section of this run (same homes)',
      });
    }
  } finally {
    polling = false;
    await poller;
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    redis.disconnect();
    await deleteKeys(o.target, prefix);
  }
}

/**
 * A projector process's own figures from its /metrics (prom-client's defaults): CPU so far, and
 * its event loop's longest delay since the previous scrape (each scrape starts a new window).
 */
async function processMetrics(
  p: ProjectorProcess,
): Promise<{ cpuSeconds: number; lagMaxSeconds: number }> {
  const text = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    cpuSeconds: value('process_cpu_seconds_total'),
    lagMaxSeconds: value('nodejs_eventloop_lag_max_seconds'),
  };
}
