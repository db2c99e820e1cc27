import type pg from 'pg';
import { inTransaction, type Position } from '@tweeter/shared';
import { diffRows } from '../verification/compare.ts';
import type { LiveSnapshot } from '../runtime/projection.ts';
import { snapshotReadModel } from '../verification/snapshots.ts';

type Row = Record<string, unknown>;

/**
 * `verify` of a read-model copy: the live tables and their checkpoint as of one instant (a
 * REPEATABLE READ transaction sees the tables and the checkpoint of the same committed batches:
 * they commit together), compared row by row with a rebuilt copy.
 */
export async function snapshotLiveReadModel(pool: pg.Pool, schema: string): Promise<LiveSnapshot> {
  const s = `"${schema}"`;
  const { checkpoint, live } = await inTransaction(
    pool,
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    async (client) => {
      const q = async (text: string) => (await client.query<Row>(text)).rows;
      return {
        checkpoint:
          ((await q(`SELECT position FROM ${s}.checkpoint`))[0]?.position as
            Position | undefined) ?? null,
        live: {
          users: await q(`SELECT * FROM ${s}.users ORDER BY id`),
          follows: await q(`SELECT * FROM ${s}.follows ORDER BY follower_id, followee_id`),
          tweets: await q(`SELECT * FROM ${s}.tweets ORDER BY id`),
        },
      };
    },
  );
  return {
    checkpoint,
    async compareWith(copy) {
      const rebuilt = await snapshotReadModel(pool, copy);
      return {
        differences: [
          ...diffRows('users', live.users, rebuilt.users, (r) => String(r.id)),
          ...diffRows(
            'follows',
            live.follows,
            rebuilt.follows,
            (r) => `${String(r.follower_id)}→${String(r.followee_id)}`,
          ),
          ...diffRows('tweets', live.tweets, rebuilt.tweets, (r) => String(r.id)),
        ],
        compared: rebuilt.users.length + rebuilt.follows.length + rebuilt.tweets.length,
      };
    },
  };
}
