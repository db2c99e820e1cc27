import type pg from 'pg';
import { connectRedis, redisMasters, type RedisServers } from '@tweeter/shared';

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
 * The fields of a timelines copy's `meta` hash (checkpoint, live, busy…), then of the hashes
 * `more` names from them (e.g. the fan-out partitions'), on one connection.
 */
export async function snapshotMeta(
  servers: RedisServers,
  prefix: string,
  metaKey: string,
  more: (meta: Record<string, string>) => string[] = () => [],
): Promise<Record<string, string>[]> {
  const redis = connectRedis(servers, prefix, { lazyConnect: true });
  try {
    await redis.connect();
    const meta = await redis.hgetall(metaKey);
    return [meta, ...(await Promise.all(more(meta).map((key) => redis.hgetall(key))))];
  } finally {
    redis.disconnect();
  }
}

/**
 * Every key of a timelines copy with its logical content (binary members as hex), keyed by the
 * name inside the copy's namespace, so two copies compare key by key. Scans every master of a
 * cluster.
 */
export async function snapshotTimelines(
  servers: RedisServers,
  prefix: string,
  namespace: string,
): Promise<Record<string, unknown>> {
  const redis = connectRedis(servers, '', { lazyConnect: true, autoPipelining: true });
  const full = `${prefix}${namespace}`;
  const out: Record<string, unknown> = {};
  try {
    await redis.connect();
    const keys: string[] = [];
    for (const master of redisMasters(redis))
      for await (const batch of master.scanStream({ match: `${full}*`, count: 1000 }))
        keys.push(...(batch as string[]));
    keys.sort();
    const types = await Promise.all(keys.map((key) => redis.type(key)));
    const values = await Promise.all(
      keys.map(async (key, i): Promise<unknown> => {
        const type = types[i];
        switch (type) {
          case 'zset': {
            const raw = await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES');
            const entries: string[] = [];
            for (let j = 0; j < raw.length; j += 2)
              entries.push(`${raw[j + 1]!.toString()}:${raw[j]!.toString('hex')}`);
            return entries;
          }
          case 'set':
            return (await redis.smembers(key)).sort();
          case 'hash': {
            const h = await redis.hgetallBuffer(key);
            // A user hash's home-stream fields say who watches, not what the log says.
            if (key.includes(':user:{')) {
              delete h.w;
              delete h.f;
            }
            return Object.fromEntries(
              Object.entries(h)
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([f, v]) => [f, f === 'bm' ? v.toString('hex') : v.toString()]),
            );
          }
          case 'string':
            return redis.get(key);
          default:
            return `unexpected type ${type}`;
        }
      }),
    );
    keys.forEach((key, i) => (out[key.slice(full.length)] = values[i]));
  } finally {
    redis.disconnect();
  }
  return out;
}
