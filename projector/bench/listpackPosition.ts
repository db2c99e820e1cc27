/**
 * Does it matter where the newest entry of a full home lands in its listpack? Home entries are
 * scored by createdAt, so the newest goes to the tail and the trim removes the oldest at the head.
 * A ZADD into a listpack scans from the head to find the member and its place; the other layout
 * (negated scores: newest at the head, trim at the tail) finds its place at once. Measured in a Lua
 * loop on the server (no network, no client): ZADD of a new newest entry + trim to the cap, on a
 * full listpack of `cap` entries, in alternating repetitions; the fastest of each is kept.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from '@tweeter/shared';
import { print, ratio, round } from './report.ts';

const loop = `
local key, head, from, n, cap = KEYS[1], ARGV[1] == 'head', tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = from, from + n - 1 do
  local member = string.format('%016d', i)
  if head then
    redis.call('ZADD', key, -i, member)
    redis.call('ZREMRANGEBYRANK', key, cap, -1)
  else
    redis.call('ZADD', key, i, member)
    redis.call('ZREMRANGEBYRANK', key, 0, -cap - 1)
  end
end
return redis.call('ZCARD', key)
`;

export async function listpackPosition(
  redis: Redis,
  prefix: string,
  cap: number,
  ops = 5000,
  repetitions = 4,
): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const keyOf = (layout: string) => `${prefix}lp-${layout}:{${tag}}`;
  const best: Record<'head' | 'tail', number> = { head: Infinity, tail: Infinity };
  let encoding: unknown;
  let next = cap + 1;
  try {
    for (const layout of ['tail', 'head'] as const) {
      const fill: (string | number)[] = [];
      for (let i = 1; i <= cap; i++)
        fill.push(layout === 'head' ? -i : i, String(i).padStart(16, '0'));
      await redis.del(keyOf(layout));
      await redis.zadd(keyOf(layout), ...fill);
    }
    for (let r = 0; r < repetitions; r++)
      for (const layout of r % 2 === 0
        ? (['tail', 'head'] as const)
        : (['head', 'tail'] as const)) {
        const started = performance.now();
        await redis.eval(loop, 1, keyOf(layout), layout, next, ops, cap);
        best[layout] = Math.min(best[layout], performance.now() - started);
        next += ops;
      }
    encoding = await redis.call('OBJECT', 'ENCODING', keyOf('tail'));
  } finally {
    await redis.del(keyOf('tail'), keyOf('head'));
  }
  const ns = (ms: number) => round((ms * 1e6) / ops);
  print({
    name: 'listpack-insert-position',
    redis: 'single',
    unit: 'ns/op',
    value: ns(best.tail),
    baseline: ns(best.head),
    ratio: ratio(best.tail, best.head),
    entries: cap,
    encoding,
    ops,
    note:
      'one ZADD of the newest entry + ZREMRANGEBYRANK trim to the cap on a full home, server-side ' +
      'loop: value = newest at the tail (score = createdAt, the layout before homes were stored ' +
      "newest first), baseline = newest at the head (negated scores: the homes' layout); ratio > " +
      '1: the tail layout costs that much more per write',
  });
}
