import { randomBytes } from 'node:crypto';
import { timelineKeys, type Position } from '@tweeter/shared';
import type { ProjectionName } from '../runtime/projection.ts';
import { lockName } from '../runtime/runner.ts';
import { snapshotReadModel, snapshotTimelines } from '../testing/snapshots.ts';
import { boundedEventStore, catchUp } from './catchUp.ts';
import type { AdminContext } from './context.ts';
import { diffKeys, diffRows, type Difference } from './compare.ts';
import { AdminError } from './errors.ts';
import { tryLock } from './locks.ts';
import { dropCopy } from './copies.ts';

export interface VerifyResult {
  projection: ProjectionName;
  copy: string;
  checkpoint: Position | null;
  /** Rows or keys compared. */
  compared: number;
  differences: Difference[];
}

type Row = Record<string, unknown>;
interface LiveSnapshot<S> {
  checkpoint: Position | null;
  data: S;
}

/**
 * Rebuilds the projection from the log into a scratch copy, up to exactly the checkpoint of a
 * consistent snapshot of the live copy, and compares the two. The scratch copy is dropped
 * afterwards, also on failure or Ctrl-C.
 */
export async function verifyProjection(
  ctx: AdminContext,
  name: ProjectionName,
  options: { signal?: AbortSignal } = {},
): Promise<VerifyResult> {
  if (name === 'integration-events')
    throw new AdminError(
      'integration-events cannot be verified: its copy is a stream of published messages, not state to compare',
    );
  const copy = await ctx.activeCopy(name);
  const live = ctx.projection(name, copy);
  await live.setup();
  // A scratch name no reader or projector follows; its own lock keeps two verifies apart.
  const scratchCopy =
    name === 'read-model'
      ? `verify_${randomBytes(4).toString('hex')}`
      : `verify${randomBytes(4).toString('hex')}`;
  const scratch = ctx.projection(name, scratchCopy);
  const lock = await tryLock(ctx.config.DATABASE_URL, lockName(name, scratchCopy));
  if (!lock) throw new AdminError(`${name}: scratch copy ${scratchCopy} is in use`);
  try {
    const snapshot =
      name === 'read-model'
        ? await liveReadModel(ctx, copy)
        : await liveTimelines(ctx, copy, () => live.checkpoint());
    const built = await catchUp(scratch, boundedEventStore(ctx.eventStore, snapshot.checkpoint), {
      ...(options.signal ? { signal: options.signal } : {}),
      maxPasses: 1,
    });
    if (built.interrupted) throw new AdminError(`${name}: verify interrupted`, 130);
    let differences: Difference[];
    let compared: number;
    if (name === 'read-model') {
      const liveTables = snapshot.data as Record<string, Row[]>;
      const rebuilt = await snapshotReadModel(ctx.pool, scratchCopy);
      differences = [
        ...diffRows('users', liveTables.users!, rebuilt.users, (r) => String(r.id)),
        ...diffRows(
          'follows',
          liveTables.follows!,
          rebuilt.follows,
          (r) => `${String(r.follower_id)}→${String(r.followee_id)}`,
        ),
        ...diffRows('tweets', liveTables.tweets!, rebuilt.tweets, (r) => String(r.id)),
      ];
      compared = rebuilt.users.length + rebuilt.follows.length + rebuilt.tweets.length;
    } else {
      const rebuilt = await snapshotTimelines(
        ctx.config.REDIS_URL,
        ctx.config.REDIS_PREFIX,
        timelineKeys(scratchCopy).namespace,
      );
      // `meta` holds the checkpoint and the live flag: bookkeeping, equal by construction.
      differences = diffKeys(snapshot.data, rebuilt, (k) => k === 'meta');
      compared = Object.keys(rebuilt).length;
    }
    return { projection: name, copy, checkpoint: snapshot.checkpoint, compared, differences };
  } finally {
    await dropCopy(scratch).catch(() => undefined);
    await lock.release();
  }
}

/**
 * The live read model and its checkpoint as of one instant: a REPEATABLE READ transaction sees
 * the tables and the checkpoint of the same committed batches (they commit together).
 */
async function liveReadModel(
  ctx: AdminContext,
  schema: string,
): Promise<LiveSnapshot<Record<string, Row[]>>> {
  const client = await ctx.pool.connect();
  const s = `"${schema}"`;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const q = async (text: string) => (await client.query<Row>(text)).rows;
    const checkpoint = (await q(`SELECT position FROM ${s}.checkpoint`))[0]?.position as
      Position | null | undefined;
    const data = {
      users: await q(`SELECT * FROM ${s}.users ORDER BY id`),
      follows: await q(`SELECT * FROM ${s}.follows ORDER BY follower_id, followee_id`),
      tweets: await q(`SELECT * FROM ${s}.tweets ORDER BY id`),
    };
    await client.query('COMMIT');
    return { checkpoint: checkpoint ?? null, data };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The live timelines at one checkpoint. A key scan is not atomic, but the projector writes each
 * step's effects and checkpoint in one MULTI: if the checkpoint is the same before and after the
 * scan, no step landed in between and the snapshot is exactly that checkpoint's state.
 */
async function liveTimelines(
  ctx: AdminContext,
  version: string,
  checkpoint: () => Promise<Position | null>,
  attempts = 20,
): Promise<LiveSnapshot<Record<string, unknown>>> {
  for (let i = 0; i < attempts; i++) {
    const before = await checkpoint();
    const data = await snapshotTimelines(
      ctx.config.REDIS_URL,
      ctx.config.REDIS_PREFIX,
      timelineKeys(version).namespace,
    );
    if ((await checkpoint()) === before) return { checkpoint: before, data };
    await new Promise((resolve) => setTimeout(resolve, 100 * (i + 1)));
  }
  throw new AdminError(
    `timelines (${version}) kept changing during ${attempts} snapshots; run verify at a quieter moment`,
  );
}
