import { switchActiveCopy } from '@tweeter/shared';
import { declarationOf, type ProjectionName } from '../registry.ts';
import { lockName } from '../runtime/advisoryLock.ts';
import { hasCopies } from '../runtime/projection.ts';
import { catchUp } from './catchUp.ts';
import type { AdminContext } from './context.ts';
import { newCopyName } from './copies.ts';
import { AdminError } from './errors.ts';
import { lockHolder, tryLock } from './locks.ts';
import { createProgress } from './progress.ts';
import { confirm } from './prompt.ts';

export interface RebuildOptions {
  yes?: boolean;
  json?: boolean;
  signal?: AbortSignal;
  /**
   * How long readers may still use the old copy after the switch: the query service's registry
   * cache (ACTIVE_COPY_CACHE_MS, 1 s) plus requests in flight. The old copy is dropped after it.
   */
  drainMs?: number;
  /** How long the running projector may take to move over to the new copy. */
  takeoverTimeoutMs?: number;
  /** Stage messages (what a terminal shows). */
  say?: (line: string) => void;
}

export interface RebuildResult {
  projection: ProjectionName;
  from: string;
  to: string;
  events: number;
  seconds: number;
  dropped: boolean;
}

/** Takes the lock once it is free (its holder is leaving), or gives up after `timeoutMs`. */
async function takeWhenFree(url: string, lock: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = await tryLock(url, lock);
    if (held || Date.now() > deadline) return held;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The lock that keeps two rebuilds of one projection apart (they would race on the switch). */
export const rebuildLockName = (projection: string) => `tweeter-admin:rebuild:${projection}`;

/**
 * Zero-downtime rebuild: build a new copy beside the live one under the new copy's own lock (no
 * projector follows it yet, so this process is its only writer), catch it up until a pass finds
 * nothing new, switch the registry in one UPDATE, apply what arrived in between, and hand the copy
 * to the running projector by releasing its lock. Once the projector has left the old copy, this
 * process keeps the old copy current while readers follow the switch (`drainMs`), then drops it. Until the switch the live
 * copy is untouched, so an interrupted rebuild only leaves (and removes) its new copy.
 */
export async function rebuildProjection(
  ctx: AdminContext,
  projectionName: ProjectionName,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const declaration = declarationOf(projectionName);
  if (!hasCopies(declaration))
    throw new AdminError(
      `${declaration.name} has no readers to switch: ${declaration.rebuildInstead}`,
    );
  const { name, catchUpBatchSize: batchSize } = declaration;
  const say = options.say ?? (() => undefined);
  const started = performance.now();
  await confirm(
    `${name}: build a new copy from the whole log, switch readers to it and drop the current one?`,
    options.yes,
  );
  const rebuildLock = await tryLock(ctx.config.DATABASE_URL, rebuildLockName(name));
  if (!rebuildLock) throw new AdminError(`another rebuild of ${name} is running`);
  try {
    const from = await ctx.activeCopy(name);
    let to = newCopyName(declaration);
    if (to === from) to = `${to}b`;
    const fresh = ctx.projection(name, to);
    const freshLock = await tryLock(ctx.config.DATABASE_URL, lockName(name, to));
    if (!freshLock) throw new AdminError(`${name}: copy ${to} is locked by another process`);
    const projectorRan = (await lockHolder(ctx.pool, lockName(name, from))) !== null;
    say(`${name}: building ${to} beside ${from}`);
    let events = 0;
    let switched = false;
    try {
      await fresh.setup();
      const total = await ctx.eventStore.estimatedLag(null);
      const progress = createProgress(`rebuild ${name}`, {
        quiet: options.json ?? false,
        total,
      });
      let built;
      try {
        built = await catchUp(fresh, ctx.eventStore, {
          batchSize,
          ...(options.signal ? { signal: options.signal } : {}),
          onProgress: (applied) => progress.update(applied, Math.max(total, applied)),
        });
      } finally {
        progress.stop();
      }
      if (built.interrupted)
        throw new AdminError(`${name}: rebuild interrupted; ${to} removed`, 130);
      events = built.applied;
      await switchActiveCopy(ctx.db, name, to);
      switched = true;
      say(`${name}: readers switched from ${from} to ${to}`);
      // What arrived between the last pass and the switch, before the projector takes over.
      events += (await catchUp(fresh, ctx.eventStore, { batchSize, maxPasses: 3 })).applied;
    } catch (error) {
      if (!switched) {
        await freshLock.release();
        await fresh.drop().catch(() => undefined);
      }
      throw error;
    } finally {
      await freshLock.release();
    }

    if (projectorRan) {
      // The projector stops its runner on the old copy (releasing that lock) and takes the new
      // copy's lock; only then is nobody writing the old copy any more.
      const deadline = Date.now() + (options.takeoverTimeoutMs ?? 30_000);
      for (;;) {
        const [oldHolder, newHolder] = await Promise.all([
          lockHolder(ctx.pool, lockName(name, from)),
          lockHolder(ctx.pool, lockName(name, to)),
        ]);
        if (oldHolder === null && newHolder !== null) break;
        if (Date.now() > deadline)
          throw new AdminError(
            `${name}: readers use ${to}, but the projector did not move over within ${Math.round((options.takeoverTimeoutMs ?? 30_000) / 1000)} s; ${from} was kept (drop it once no process uses it)`,
          );
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      say(`${name}: the projector runs ${to}`);
    }
    // Readers that resolved the old copy just before the switch (the query service caches the
    // registry for about a second) may wait on it for their X-Min-Position. Keep it current until
    // they are done, as its only writer, so that no such read stalls or finds it gone.
    const oldLock = await takeWhenFree(ctx.config.DATABASE_URL, lockName(name, from), 10_000);
    if (!oldLock) throw new AdminError(`${name}: a process still writes ${from}; it was kept`);
    try {
      const old = ctx.projection(name, from);
      const drainUntil = Date.now() + (options.drainMs ?? 5000);
      while (Date.now() < drainUntil) {
        await catchUp(old, ctx.eventStore, { batchSize, maxPasses: 1 });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await old.drop();
    } finally {
      await oldLock.release();
    }
    say(`${name}: dropped ${from}`);
    return {
      projection: name,
      from,
      to,
      events,
      seconds: Math.round((performance.now() - started) / 10) / 100,
      dropped: true,
    };
  } finally {
    await rebuildLock.release();
  }
}
