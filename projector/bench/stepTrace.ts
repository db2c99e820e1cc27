/**
 * Where a tweet's time goes inside the timelines projection, and the instant its step completes:
 * the benchmark wraps the projection's parts in this process (never in the product) and records,
 * per batch, the load of what planning reads (FollowGraphCache.loadFor), and per step
 * (StepWriter.write) its meta updates, its homes (the synchronous part that encodes and issues the
 * home-script calls, then the wait for Redis) and the end of its checkpoint update. A step's end
 * is when its tweets are in every home and its checkpoint is stored (stepWriter.ts).
 *
 * Only one traced projection may run at a time (the benchmark runs the single-server and the
 * cluster copy one after the other).
 */
import type { DecodedEvent, Position } from '@tweeter/shared';
import { FollowGraphCache } from '../src/timelines/followGraphCache.ts';
import type { StepPlan } from '../src/timelines/stepPlan.ts';
import { StepWriter } from '../src/timelines/stepWriter.ts';
import type { TimelinesProjection } from '../src/timelines/timelinesProjection.ts';

export interface StepTrace {
  start: number;
  /** Each meta update of the step ([start, end]): busy, then wal (with shared effects), checkpoint. */
  metas: [number, number][];
  homesStart: number;
  /** When the home-script calls were all issued (argument encoding and command building done). */
  homesIssued: number;
  homesEnd: number;
  end: number;
  homes: number;
  /** Tweets the step stores (those posted in it). */
  tweets: string[];
}

export interface BatchTrace {
  start: number;
  /** When the projection's previous batch ended: a tweet appended before it waited in queue. */
  previousEnd: number;
  loadStart: number;
  loadEnd: number;
  events: number;
  steps: StepTrace[];
}

/** The step a tweet was written in, within its batch. */
export interface TweetTrace {
  batch: BatchTrace;
  step: StepTrace;
  /** Where planning of the step's events began: the end of the load, or of the previous step. */
  planStart: number;
}

const now = () => performance.now();

export class StepTracer {
  private batch: BatchTrace | undefined;
  private step: StepTrace | undefined;
  private readonly waiting = new Map<string, (trace: TweetTrace) => void>();

  /**
   * Resolves when the step storing `tweetId` has completed (or with undefined after `timeoutMs`).
   * Call it before the tweet is appended.
   */
  stepOf(tweetId: string, timeoutMs: number): Promise<TweetTrace | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(tweetId);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(tweetId, (trace) => {
        clearTimeout(timer);
        resolve(trace);
      });
    });
  }

  /** Records each batch the projection applies (its `apply`, wrapped on this instance). */
  attach(projection: TimelinesProjection): void {
    const apply = projection.apply.bind(projection);
    let previousEnd = -Infinity;
    projection.apply = async (events: DecodedEvent[], upTo: Position, from: Position | null) => {
      this.batch = {
        start: now(),
        previousEnd,
        loadStart: NaN,
        loadEnd: NaN,
        events: events.length,
        steps: [],
      };
      try {
        await apply(events, upTo, from);
      } finally {
        this.batch = undefined;
        this.step = undefined;
        previousEnd = now();
      }
    };
  }

  load(start: number, end: number): void {
    if (!this.batch) return;
    this.batch.loadStart = start;
    this.batch.loadEnd = end;
  }

  beginStep(step: StepPlan): StepTrace {
    const trace: StepTrace = {
      start: now(),
      metas: [],
      homesStart: NaN,
      homesIssued: NaN,
      homesEnd: NaN,
      end: NaN,
      homes: step.homes.size,
      tweets: [...step.bodies.keys()],
    };
    this.step = trace;
    return trace;
  }

  meta(start: number, end: number): void {
    this.step?.metas.push([start, end]);
  }

  homes(start: number, issued: number, end: number): void {
    if (!this.step) return;
    this.step.homesStart = start;
    this.step.homesIssued = issued;
    this.step.homesEnd = end;
  }

  endStep(trace: StepTrace): void {
    trace.end = now();
    const batch = this.batch;
    if (!batch) return;
    const planStart = batch.steps.at(-1)?.end ?? batch.loadEnd;
    batch.steps.push(trace);
    for (const tweetId of trace.tweets) {
      const resolve = this.waiting.get(tweetId);
      if (!resolve) continue;
      this.waiting.delete(tweetId);
      resolve({ batch, step: trace, planStart });
    }
    this.step = undefined;
  }
}

let installed: StepTracer | undefined;

/** Wraps the projection's parts once in this process; returns the tracer they report to. */
export function installStepTracer(): StepTracer {
  if (installed) return installed;
  const tracer = (installed = new StepTracer());
  /* eslint-disable @typescript-eslint/unbound-method -- each original is called with its instance */
  const writer = StepWriter.prototype;
  const { write, meta, tail, writeHomes } = {
    write: writer.write,
    meta: writer['meta'],
    tail: writer['tail'],
    writeHomes: writer['writeHomes'],
  };
  writer.write = async function (this: StepWriter, ...args: Parameters<StepWriter['write']>) {
    const trace = tracer.beginStep(args[0]);
    await write.apply(this, args);
    tracer.endStep(trace);
  };
  /** A meta update timed as one of the step's (`tail`, one server's step end, counts as one). */
  const timedMeta = <A extends unknown[]>(
    original: (this: StepWriter, ...args: A) => Promise<void>,
  ) =>
    async function (this: StepWriter, ...args: A) {
      const start = now();
      try {
        await original.apply(this, args);
      } finally {
        tracer.meta(start, now());
      }
    };
  writer['meta'] = timedMeta(meta);
  writer['tail'] = timedMeta(tail);
  writer['writeHomes'] = function (this: StepWriter, ...args: Parameters<typeof writeHomes>) {
    const start = now();
    const written = writeHomes.apply(this, args);
    const issued = now();
    return written.finally(() => tracer.homes(start, issued, now()));
  };
  const cache = FollowGraphCache.prototype;
  const loadFor = cache.loadFor;
  /* eslint-enable @typescript-eslint/unbound-method */
  cache.loadFor = async function (this: FollowGraphCache, ...args: Parameters<typeof loadFor>) {
    const start = now();
    const inputs = await loadFor.apply(this, args);
    tracer.load(start, now());
    return inputs;
  };
  return tracer;
}
