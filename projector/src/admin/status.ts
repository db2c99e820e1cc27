import { comparePositions, type Position } from '@tweeter/shared';
import { projectionNames, type ProjectionName } from '../registry.ts';
import { lockName } from '../runtime/advisoryLock.ts';
import type { AdminContext } from './context.ts';
import { isLockHeld } from './locks.ts';
import { fetchProjectorStatus } from './projectorStatus.ts';
import { TimelinesProjection } from '../timelines/timelinesProjection.ts';

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
  /** The timelines' fan-out partitions, when the copy has them. */
  partitions?: PartitionRow[];
}

export interface PartitionRow {
  partition: number;
  /** held: some process holds its lock now; free: none (its chunks wait). */
  state: 'held' | 'free';
  owner: string | null;
  checkpoint: Position | null;
  lagEvents: number;
  pendingChunks: number;
}

/** The partitions of a timelines copy, with their locks and lag. */
async function partitionRows(
  ctx: AdminContext,
  projection: unknown,
  head: Position | null,
): Promise<PartitionRow[] | undefined> {
  if (!(projection instanceof TimelinesProjection)) return undefined;
  const stored = await projection.partitions().catch(() => []);
  if (stored.length === 0) return undefined;
  return Promise.all(
    stored.map(async (p) => ({
      partition: p.partition,
      state: (await isLockHeld(
        ctx.pool,
        `${lockName('timelines', projection.copy)}:p${p.partition}`,
      ))
        ? ('held' as const)
        : ('free' as const),
      owner: p.owner,
      checkpoint: p.checkpoint,
      lagEvents:
        comparePositions(p.checkpoint, head) >= 0
          ? 0
          : await ctx.eventStore.estimatedLag(p.checkpoint),
      pendingChunks: p.pending,
    })),
  );
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
      const partitions = await partitionRows(ctx, projection, head);
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
        ...(partitions ? { partitions } : {}),
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
  const lines = aligned(table);
  for (const r of rows) if (r.lastError) lines.push(`${r.name}: last error: ${r.lastError}`);
  for (const r of rows)
    if (r.partitions) {
      lines.push('', `${r.name} (${r.copy}) fan-out partitions:`);
      lines.push(
        ...aligned([
          ['PARTITION', 'STATE', 'OWNER', 'CHECKPOINT', 'LAG', 'PENDING CHUNKS'],
          ...r.partitions.map((p) => [
            String(p.partition),
            p.state,
            p.owner ?? '-',
            p.checkpoint ?? '-',
            String(p.lagEvents),
            String(p.pendingChunks),
          ]),
        ]),
      );
    }
  if (rows.every((r) => r.source === 'lock'))
    lines.push("(no projector answered /status; states derived from the copies' locks)");
  return lines.join('\n');
}

/** Rows of cells as lines of aligned columns. */
function aligned(table: string[][]): string[] {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}
