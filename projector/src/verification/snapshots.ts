import { Redis } from 'ioredis';
import type pg from 'pg';

/** Every row of a read-model copy, in a stable order (comparisons of two copies). */
export async function snapshotReadModel(pool: pg.Pool, schema: string) {
  const s = `"${schema}"`;
  const q = async (text: string) => (await pool.query(text)).rows as Record<string, unknown>[];
  return {
    users: await q(`SELECT * FROM ${s}.users ORDER BY id`),
    follows: await q(`SELECT * FROM ${s}.follows ORDER BY follower_id, followee_id`),
    tweets: await q(`SELECT * FROM ${s}.tweets ORDER BY id`),
    checkpoint: await q(`SELECT position FROM ${s}.checkpoint`),
  };
}

/**
 * Every key of a timelines copy with its logical content (binary members as hex), keyed by the
 * name inside the copy's namespace, so two copies compare key by key.
 */
export async function snapshotTimelines(
  redisUrl: string,
  prefix: string,
  namespace: string,
): Promise<Record<string, unknown>> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  const full = `${prefix}${namespace}`;
  const out: Record<string, unknown> = {};
  try {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${full}*`, count: 1000 }))
      keys.push(...(batch as string[]));
    keys.sort();
    for (const key of keys) {
      const name = key.slice(full.length);
      const type = await redis.type(key);
      switch (type) {
        case 'zset': {
          const raw = await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES');
          const entries: string[] = [];
          for (let i = 0; i < raw.length; i += 2)
            entries.push(`${raw[i + 1]!.toString()}:${raw[i]!.toString('hex')}`);
          out[name] = entries;
          break;
        }
        case 'set':
          out[name] = (await redis.smembers(key)).sort();
          break;
        case 'hash': {
          const h = await redis.hgetallBuffer(key);
          out[name] = Object.fromEntries(
            Object.entries(h).map(([f, v]) => [f, f === 'bm' ? v.toString('hex') : v.toString()]),
          );
          break;
        }
        case 'string':
          out[name] = await redis.get(key);
          break;
        default:
          out[name] = `unexpected type ${type}`;
      }
    }
  } finally {
    redis.disconnect();
  }
  return out;
}
