import { comparePositions, type Position } from '@tweeter/shared';
import { projectionNames, type ProjectionName } from '../registry.ts';
import { lockName } from '../runtime/advisoryLock.ts';
import type { AdminContext } from './context.ts';
import { isLockHeld } from './locks.ts';
import { fetchProjectorStatus } from './projectorStatus.ts';

export interface ProjectionStatus {
  name: ProjectionName;
  copy: string;
  /**
   * From the projector's /status when it answers (running, standby, waiting, failed, …); else
   * `running` when some process holds the copy's lock, `stopped` when none does.
   */
  state: string;
  /** Where the state came from. */
  source: 'projector' | 'lock';
  checkpoint: Position | null;
  head: Position | null;
  lagEvents: number;
  eventsPerSecond: number | null;
  lastError: string | null;
}

/** Every projection's copy, state, checkpoint and lag, read from the stores themselves. */
export async function collectStatus(
  ctx: AdminContext,
  names: readonly ProjectionName[] = projectionNames,
): Promise<ProjectionStatus[]> {
  const [head, running] = await Promise.all([
    ctx.eventStore.headPosition(),
    fetchProjectorStatus(ctx.projectorUrl),
  ]);
  return Promise.all(
    names.map(async (name) => {
      const projection = ctx.projection(name, await ctx.activeCopy(name));
      // The checkpoint is read from the copy itself: exact even when no projector answers.
      const checkpoint = await projection.checkpoint().catch(() => null);
      const reported = running?.find((r) => r.name === name && r.copy === projection.copy);
      const lagEvents =
        comparePositions(checkpoint, head) >= 0 ? 0 : await ctx.eventStore.estimatedLag(checkpoint);
      const state =
        reported?.state ??
        ((await isLockHeld(ctx.pool, lockName(name, projection.copy))) ? 'running' : 'stopped');
      return {
        name,
        copy: projection.copy,
        state,
        source: reported ? 'projector' : 'lock',
        checkpoint,
        head,
        lagEvents,
        eventsPerSecond: reported?.eventsPerSecond ?? null,
        lastError: reported?.lastError ?? null,
      } satisfies ProjectionStatus;
    }),
  );
}

/** A fixed-width table for a terminal. */
export function formatStatus(rows: readonly ProjectionStatus[]): string {
  const table = [
    ['PROJECTION', 'COPY', 'STATE', 'CHECKPOINT', 'HEAD', 'LAG', 'EVENTS/S'],
    ...rows.map((r) => [
      r.name,
      r.copy,
      r.state,
      r.checkpoint ?? '-',
      r.head ?? '-',
      String(r.lagEvents),
      r.eventsPerSecond === null ? '-' : String(r.eventsPerSecond),
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  for (const r of rows) if (r.lastError) lines.push(`${r.name}: last error: ${r.lastError}`);
  if (rows.every((r) => r.source === 'lock'))
    lines.push("(no projector answered /status; states derived from the copies' locks)");
  return lines.join('\n');
}
