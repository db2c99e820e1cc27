import { describe, expect, it } from 'vitest';
import {
  connectRedis,
  encodeHomeMember,
  encodeTimelineMember,
  homeScore,
  timelineKeys,
  type Position,
} from '@tweeter/shared';
import { testOnRedisCluster, testRedisServers } from '@tweeter/shared/testing';
import { uuidv7 } from '../../testing/eventFactory.ts';
import { useScriptedTestRedis } from '../../testing/scriptedTestRedis.ts';
import { encodeHomeOps, EntryRecords } from '../homeScript.ts';
import type { HomeOp } from '../stepPlan.ts';
import type { ChunkHome } from './chunk.ts';
import { writeHomes } from './homeWrites.ts';

/**
 * writeHomes against the test Redis (single server, or the local cluster under TEST_REDIS=cluster):
 * a step of thousands of homes, each encoded only when writeHomes asks for it.
 */
const { redis, prefix } = useScriptedTestRedis();
const keys = timelineKeys('v1');

/** A post's push of `tweetId` with `score` at `position`: one home's operations. */
const push = (position: Position, tweetId: string, score: number): HomeOp[] => [
  {
    kind: 'add',
    position,
    entries: [{ score, member: encodeTimelineMember(tweetId) }],
    merge: false,
    positions: [position],
  },
];

describe('writeHomes', () => {
  it('writes every home of a large step, giving the event loop turns while it encodes on one server', async () => {
    const homes = 3000;
    const position = '00000000000000010000000000000005' as Position;
    const tweetId = uuidv7(Date.parse('2026-03-01T00:00:00.000Z'));
    const score = Date.parse('2026-03-01T00:00:00.000Z');
    const users = Array.from({ length: homes }, (_, i) => uuidv7(1_700_000_000_000 + i));
    const records = new EntryRecords();
    // A turn of the event loop scheduled before the write: seen by the encoding only if
    // writeHomes lets the loop run between homes (and so the calls issued so far go out).
    let turned = false;
    let firstEncodedAfterTurn: number | undefined;
    setImmediate(() => (turned = true));
    function* encoded(): Generator<ChunkHome> {
      for (let i = 0; i < homes; i++) {
        if (turned && firstEncodedAfterTurn === undefined) firstEncodedAfterTurn = i;
        yield {
          userId: users[i]!,
          ops: encodeHomeOps(push(position, tweetId, score), records, false),
        };
      }
    }
    await writeHomes(redis, keys, { cap: 800, streamLength: 0, channel: 'unused' }, encoded());

    if (testOnRedisCluster()) {
      // On a cluster the homes are grouped by slot first: all encoded before the first call.
      expect(firstEncodedAfterTurn).toBeUndefined();
    } else {
      expect(firstEncodedAfterTurn).toBeGreaterThan(0);
      expect(firstEncodedAfterTurn).toBeLessThan(homes);
    }
    const member = encodeHomeMember(tweetId);
    const checks = await Promise.all(
      users.map(async (u) => ({
        score: await redis.zscore(keys.home(u), member),
        stamp: await redis.hget(keys.user(u), 's'),
      })),
    );
    expect(checks.filter((c) => c.score !== String(homeScore(score)))).toEqual([]);
    expect(checks.filter((c) => c.stamp !== position)).toEqual([]);
  });

  it('fails with a home that fails to encode, once the calls issued before it have ended', async () => {
    const position = '00000000000000010000000000000009' as Position;
    const tweetId = uuidv7(Date.parse('2026-03-02T00:00:00.000Z'));
    const users = Array.from({ length: 2500 }, (_, i) => uuidv7(1_710_000_000_000 + i));
    const records = new EntryRecords();
    function* encoded(): Generator<ChunkHome> {
      for (let i = 0; i < users.length; i++) {
        // A score the records cannot hold: encoding this home throws.
        const score = i === 2000 ? -1 : Date.parse('2026-03-02T00:00:00.000Z');
        yield {
          userId: users[i]!,
          ops: encodeHomeOps(push(position, tweetId, score), records, false),
        };
      }
    }
    const options = { cap: 800, streamLength: 0, channel: 'unused' };
    await expect(writeHomes(redis, keys, options, encoded())).rejects.toThrow(RangeError);
    // Read at once, on a connection of its own: a call still running would not have landed yet.
    const reader = connectRedis(testRedisServers(), prefix, { lazyConnect: true });
    await reader.connect();
    try {
      const stamps = await Promise.all(users.map((u) => reader.hget(keys.user(u), 's')));
      // One server issued the calls of the full bundles of 256 before the failure (homes 0 to
      // 1791) and not the bundle the failing home was in; a cluster groups every home first, so
      // it sent nothing.
      const sent = testOnRedisCluster() ? 0 : 1792;
      expect(stamps.slice(0, sent).filter((s) => s !== position)).toEqual([]);
      expect(stamps.slice(sent).filter((s) => s !== null)).toEqual([]);
    } finally {
      reader.disconnect();
    }
  });
});
