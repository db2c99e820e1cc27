import { connectRedis, timelineKeys, timelinePartition, type Position } from '@tweeter/shared';
import { deleteTestRedisKeys, testRedisPrefix, testRedisServers } from '@tweeter/shared/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsistencyGate } from './consistency.ts';
import type { LiveCopies } from './activeCopies.ts';
import type { ReadModelServer } from './readModelSource.ts';

const at = (n: number) => n.toString(16).padStart(32, '0') as Position;

/**
 * X-Min-Position on a timelines copy with fan-out partitions, on real Redis: a home read passes
 * only once the planner and the home's own partition have both passed the position, also for the
 * very first wait of a fresh gate (a query-service instance that has not seen the copy yet).
 */
describe('read-your-writes on a partitioned timelines copy', () => {
  const prefix = testRedisPrefix();
  const redis = connectRedis(testRedisServers(), prefix);
  const keys = timelineKeys('v1');
  const copies: LiveCopies = { readModel: 'read_model', timelines: keys };
  // Only the read-model source reads the server; these waits are on timelines alone.
  const server = { name: 'primary' } as ReadModelServer;
  const home = '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80';
  const partition = timelinePartition(home, 4);
  const gate = () => new ConsistencyGate(redis, 300, new Registry());

  beforeAll(async () => {
    await redis.hset(keys.meta, { checkpoint: at(20), live: '1', partitions: '4' });
    for (let p = 0; p < 4; p++)
      await redis.hset(keys.partition(p), 'checkpoint', p === partition ? at(10) : at(20));
  });

  afterAll(async () => {
    await deleteTestRedisKeys(prefix);
    redis.disconnect();
  });

  it('a fresh gate waits for the home’s partition, not only for the planner', async () => {
    const first = gate();
    await expect(
      first.waitFor(at(15), ['timelines'], copies, server, Date.now() + 300, home),
    ).rejects.toMatchObject({ type: 'consistency-timeout' });
    // Another home, in a partition that has passed: no wait.
    const other = Array.from({ length: 64 }, (_, i) =>
      home.replace(/..$/, i.toString(16).padStart(2, '0')),
    ).find((h) => timelinePartition(h, 4) !== partition)!;
    await gate().waitFor(at(15), ['timelines'], copies, server, Date.now() + 300, other);
    // Without a home (reads that need the planner only), the planner's checkpoint is enough.
    await gate().waitFor(at(15), ['timelines'], copies, server, Date.now() + 300);

    const waiting = gate().waitFor(at(15), ['timelines'], copies, server, Date.now() + 2000, home);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await redis.hset(keys.partition(partition), 'checkpoint', at(16));
    await expect(waiting).resolves.toBeUndefined();
    // Past the planner: still waits, whatever the partitions say.
    await redis.hset(keys.partition(partition), 'checkpoint', at(30));
    await expect(
      gate().waitFor(at(25), ['timelines'], copies, server, Date.now() + 300, home),
    ).rejects.toMatchObject({ type: 'consistency-timeout' });
  });
});
