import { Cluster, Redis } from 'ioredis';

export { Cluster, Redis };

/** A connection to the product's Redis: one server, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: `REDIS_CLUSTER_NODES` when set (cluster mode), else `REDIS_URL`. */
export interface RedisServers {
  url: string;
  clusterNodes?: readonly string[] | undefined;
}

/** The servers a validated configuration names. */
export const redisServersOf = (config: {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: readonly string[] | undefined;
}): RedisServers => ({ url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES });

export interface CreateRedisOptions {
  lazyConnect?: boolean;
  /** Batch commands issued in one tick into one round trip (per node on a cluster). */
  autoPipelining?: boolean;
  /** Retries of a command while the connection is down, before it fails (a 503 upstream). */
  maxRetriesPerRequest?: number;
}

/**
 * A Redis connection whose keys all live under `prefix` (ioredis keyPrefix), so two stacks or two
 * test files never see each other's keys. On a cluster, every command and script of the product
 * touches keys of one hash slot (the `{…}` tags of timelineKeys) and declares them, so ioredis
 * routes it to the slot's master and follows MOVED/ASK on its own while slots move or a replica
 * is promoted.
 */
export function connectRedis(
  servers: string | RedisServers,
  prefix: string,
  options: CreateRedisOptions = {},
): RedisClient {
  const { url, clusterNodes } = typeof servers === 'string' ? { url: servers } : servers;
  if (clusterNodes && clusterNodes.length > 0) {
    const cluster = new Cluster(
      clusterNodes.map((node) => {
        const at = node.lastIndexOf(':');
        return {
          host: node.slice(0, at).replace(/^\[|\]$/g, ''),
          port: Number(node.slice(at + 1)),
        };
      }),
      {
        keyPrefix: prefix,
        lazyConnect: options.lazyConnect ?? false,
        enableAutoPipelining: options.autoPipelining ?? true,
        redisOptions: { maxRetriesPerRequest: options.maxRetriesPerRequest ?? 2 },
        // Retry the cluster as a whole while no node answers (a restart, a failover), capped.
        clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
        // The slot map is reread by refreshSlotMap below, not by ioredis's own timer: that one
        // re-arms itself when a refresh is under way as the connection closes, and then keeps
        // the process alive forever after quit().
        slotsRefreshInterval: 0,
      },
    );
    refreshSlotMap(cluster, slotsRefreshMs);
    return cluster;
  }
  return createRedis(url, prefix, options);
}

/** How often a cluster connection rereads the slot map. */
const slotsRefreshMs = 2000;

/**
 * Rereads the slot map every `everyMs` while the connection is ready: after a replica's
 * promotion, a connection whose redirections were not followed (MOVED replies inside an
 * auto-pipelined batch) would otherwise keep sending that master's slots to the dead node. The
 * timer runs from each time the connection is ready until it ends, and never keeps the process
 * alive.
 */
function refreshSlotMap(cluster: Cluster, everyMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  cluster.on('ready', () => {
    timer ??= setInterval(() => {
      if (cluster.status === 'ready') cluster.refreshSlotsCache();
    }, everyMs).unref();
  });
  cluster.on('end', () => {
    clearInterval(timer);
    timer = undefined;
  });
}

/** A stream entry's fields (name, value, …, as XRANGE and XREAD return them) by name. */
export function streamEntryFields(fields: readonly Buffer[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!.toString(), fields[i + 1]!);
  return map;
}

/** The masters to scan or flush: every node of a cluster, or the one server. */
export function redisMasters(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** One Redis server under `prefix` (see connectRedis, which also speaks to a cluster). */
export function createRedis(url: string, prefix: string, options: CreateRedisOptions = {}): Redis {
  return new Redis(url, {
    keyPrefix: prefix,
    lazyConnect: options.lazyConnect ?? false,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 2,
    enableAutoPipelining: options.autoPipelining ?? true,
  });
}
