/**
 * The two Redis set-ups the projector benchmark measures on: the single server (REDIS_URL,
 * 127.0.0.1:6379) and the local Redis Cluster (TEST_REDIS_CLUSTER_NODES or REDIS_CLUSTER_NODES,
 * else scripts/redis-cluster.sh's 127.0.0.1:7001..7006, started when no node answers).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  Cluster,
  connectRedis,
  Redis,
  redisMasters,
  type RedisClient,
  type RedisServers,
} from '@tweeter/shared';
import { deleteClusterKeys, deleteRedisKeys, testRedisClusterNodes } from '@tweeter/shared/testing';
import { note, sleep } from './report.ts';

export interface RedisTarget {
  /** `single` or `cluster`: the `redis` field of every figure. */
  label: 'single' | 'cluster';
  servers: RedisServers;
  /** The cluster's nodes (host:port), for a cluster. */
  nodes?: string[];
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const hostPort = (node: string) => {
  const at = node.lastIndexOf(':');
  return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
};

/** A plain connection to one node, or undefined when it does not answer within a second. */
async function answering(node: string): Promise<Redis | undefined> {
  const redis = new Redis({
    ...hostPort(node),
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch {
    redis.disconnect();
    return undefined;
  }
}

const clusterOk = async (redis: Redis) =>
  /cluster_state:ok/.test(String(await redis.call('CLUSTER', 'INFO')));

/**
 * The cluster's nodes once it reports `cluster_state:ok`, or undefined (skipped: env `none`, or
 * not ok within 20 s). Starts scripts/redis-cluster.sh only when no node answers at all: its
 * `start` rebuilds a cluster that is merely unhealthy, and other test runs may be using this one.
 */
export async function findCluster(): Promise<string[] | undefined> {
  const env = process.env.TEST_REDIS_CLUSTER_NODES ?? process.env.REDIS_CLUSTER_NODES;
  if (env === 'none') return undefined;
  const base = Number(process.env.REDIS_CLUSTER_PORT ?? 7001);
  const nodes =
    testRedisClusterNodes() ?? Array.from({ length: 6 }, (_, i) => `127.0.0.1:${base + i}`);
  let probe: Redis | undefined;
  for (const node of nodes) if ((probe = await answering(node))) break;
  if (!probe) {
    note(
      `no Redis Cluster node answers on ${nodes.join(',')}: bash scripts/redis-cluster.sh start`,
    );
    try {
      execFileSync('bash', ['scripts/redis-cluster.sh', 'start'], {
        cwd: repoRoot,
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 120_000,
      });
    } catch (error) {
      note(`could not start the Redis Cluster: ${String(error)}`);
      return undefined;
    }
    probe = await answering(nodes[0]!);
    if (!probe) return undefined;
  }
  try {
    if (await waitUntilOk(probe)) return nodes;
    note('the Redis Cluster is not ok after 20 s: cluster figures skipped');
    return undefined;
  } finally {
    probe.disconnect();
  }
}

async function waitUntilOk(probe: Redis): Promise<boolean> {
  for (let waited = 0; waited < 20_000; waited += 500) {
    if (await clusterOk(probe).catch(() => false)) return true;
    await sleep(500);
  }
  return false;
}

/**
 * Waits (up to 20 s) until the cluster is ok again, e.g. after another test run on this shared
 * cluster killed a master and its replica took over; then a fresh connection sees the new slots.
 */
export async function settleCluster(target: RedisTarget): Promise<void> {
  for (const node of target.nodes ?? []) {
    const probe = await answering(node);
    if (!probe) continue;
    try {
      await sleep(1000);
      if (await waitUntilOk(probe)) return;
    } finally {
      probe.disconnect();
    }
  }
}

/** A connection without key prefix (full key names), auto-pipelined, to a target. */
export const rawClient = (target: RedisTarget): RedisClient =>
  connectRedis(target.servers, '', { autoPipelining: true });

/**
 * Runs a command on the node that owns `key` (MEMORY USAGE, OBJECT ENCODING: ioredis does not
 * route them by key on a cluster). On a cluster, every master is asked; the others answer MOVED.
 */
export async function onOwner<T>(
  client: RedisClient,
  key: string,
  run: (node: Redis) => Promise<T>,
): Promise<T> {
  if (!(client instanceof Cluster)) return run(client);
  let last: unknown;
  for (const master of redisMasters(client))
    try {
      return await run(master);
    } catch (error) {
      last = error;
    }
  throw last;
}

/** Deletes every key under `prefix` on the target (every master of a cluster). */
export async function deleteKeys(target: RedisTarget, prefix: string): Promise<void> {
  if (target.nodes) await deleteClusterKeys(target.nodes, prefix);
  else await deleteRedisKeys(target.servers.url, prefix);
}

/**
 * CPU seconds (user + system) the target's Redis servers have used so far, summed over every
 * master of a cluster: the difference across a section is what it cost the servers.
 */
export async function serverCpuSeconds(target: RedisTarget): Promise<number> {
  const client = rawClient(target);
  try {
    if (client instanceof Cluster) await client.ping(); // the slots (and so the masters) known
    let total = 0;
    for (const node of redisMasters(client)) {
      const info = String(await node.info('cpu'));
      for (const field of ['used_cpu_user', 'used_cpu_sys'])
        total += Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    }
    return total;
  } finally {
    client.disconnect();
  }
}
