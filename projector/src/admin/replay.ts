import { comparePositions } from '@tweeter/shared';
import { declarationOf, type ProjectionName } from '../registry.ts';
import { lockName } from '../runtime/advisoryLock.ts';
import { catchUp } from './catchUp.ts';
import type { AdminContext } from './context.ts';
import { AdminError } from './errors.ts';
import { adminLockApplication, lockHolder, tryLock } from './locks.ts';
import { createProgress } from './progress.ts';
import { fetchProjectorStatus } from './projectorStatus.ts';
import { confirm } from './prompt.ts';
import { resetCopy } from './reset.ts';

export interface ReplayOptions {
  yes?: boolean;
  json?: boolean;
  /** Reset a stopped copy first instead of continuing from its checkpoint. */
  fromStart?: boolean;
  /** Events per batch (default: the projection's catch-up batch): each commits a checkpoint. */
  batchSize?: number;
  /** Stops a foreground replay between batches (Ctrl-C); it resumes from its checkpoint later. */
  signal?: AbortSignal;
  /** How often a followed projector's checkpoint is polled. */
  pollMs?: number;
}

/** The replay's figure, printed as one JSON line with `--json` (the benchmark's format). */
export interface ReplayFigure {
  name: 'replay';
  projection: ProjectionName;
  value: number;
  unit: 'events/s';
  events: number;
  seconds: number;
  /** `foreground`: this process wrote; `followed`: a running projector rebuilt after a reset. */
  mode: 'foreground' | 'followed';
}

/**
 * Brings one projection's active copy to the head of the log, with one writer only:
 * - no process holds the copy's lock: take it and replay here, from the copy's checkpoint (so an
 *   interrupted replay continues where it stopped; `--from-start` resets first);
 * - a projector holds it: never write beside it. Reset the copy (after confirmation); the
 *   projector notices its checkpoint moved and rebuilds from the start; follow its progress.
 */
export async function replayProjection(
  ctx: AdminContext,
  name: ProjectionName,
  options: ReplayOptions,
): Promise<ReplayFigure> {
  const copy = await ctx.activeCopy(name);
  const projection = ctx.projection(name, copy);
  const lock = lockName(name, projection.copy);
  const label = `${name} (${projection.copy})`;
  const held = await tryLock(ctx.config.DATABASE_URL, lock);
  if (!held) {
    const holder = await lockHolder(ctx.pool, lock);
    if (holder === adminLockApplication)
      throw new AdminError(`${label}: another tweeter-admin command is writing to this copy`);
    await confirm(
      `${label} is run by a projector: reset it so that the projector rebuilds it from the start?`,
      options.yes,
    );
    return followRebuild(ctx, name, options);
  }
  try {
    if (options.fromStart) {
      await confirm(`${label}: delete its data and replay the whole log?`, options.yes);
      await projection.reset();
    }
    await projection.setup();
    const from = await projection.checkpoint();
    const total = await ctx.eventStore.estimatedLag(from);
    const progress = createProgress(`replay ${name}`, { quiet: options.json ?? false, total });
    const started = performance.now();
    let result;
    try {
      result = await catchUp(projection, ctx.eventStore, {
        batchSize: options.batchSize ?? declarationOf(name).catchUpBatchSize,
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (applied) => progress.update(applied, Math.max(total, applied)),
      });
    } finally {
      progress.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    if (result.interrupted)
      throw new AdminError(
        `${label}: interrupted at checkpoint ${result.checkpoint ?? 'start'} after ${result.applied} events; run replay again to continue from there`,
        130,
      );
    return figure(name, result.applied, seconds, 'foreground');
  } finally {
    await held.release();
  }
}

/** After a reset under a running projector: show its rebuild until it reaches the head. */
async function followRebuild(
  ctx: AdminContext,
  name: ProjectionName,
  options: ReplayOptions,
): Promise<ReplayFigure> {
  const projection = ctx.projection(name, await ctx.activeCopy(name));
  await resetCopy(projection, true);
  const started = performance.now();
  const target = await ctx.eventStore.headPosition();
  const total = await ctx.eventStore.estimatedLag(null);
  const progress = createProgress(`replay ${name} (by the projector)`, {
    quiet: options.json ?? false,
    total,
  });
  try {
    for (;;) {
      const checkpoint = await projection.checkpoint();
      const left = await ctx.eventStore.estimatedLag(checkpoint);
      progress.update(Math.max(0, total - left), total);
      if (comparePositions(checkpoint, target) >= 0) break;
      if (options.signal?.aborted)
        throw new AdminError(
          `${name}: stopped following; the projector goes on rebuilding (see status)`,
          130,
        );
      const running = await fetchProjectorStatus(ctx.projectorUrl);
      const failed = running?.find((r) => r.name === name && r.state === 'failed');
      if (failed)
        throw new AdminError(`${name}: the projector stopped: ${failed.lastError ?? 'failed'}`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  } finally {
    progress.stop();
  }
  return figure(name, total, (performance.now() - started) / 1000, 'followed');
}

function figure(
  projection: ProjectionName,
  events: number,
  seconds: number,
  mode: ReplayFigure['mode'],
): ReplayFigure {
  return {
    name: 'replay',
    projection,
    value: Math.round(events / Math.max(seconds, 0.001)),
    unit: 'events/s',
    events,
    seconds: Math.round(seconds * 100) / 100,
    mode,
  };
}
