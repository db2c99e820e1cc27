/**
 * The raw fan-out limit of `replay-timelines`: pipelined ZADD of the home entries' shape (16-byte
 * member, epoch-ms score) into as many keys, from a Node ioredis client (the projector's own
 * client) and from `redis-benchmark` (the server's own limit, no Node client in the way), on one
 * server or on the Redis Cluster.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from '@tweeter/shared';
import { deleteKeys, rawClient, type RedisTarget } from './redisTargets.ts';
import { note } from './report.ts';

/**
 * ZADDs per second from Node: on one server explicit pipelines of 10,000; on a cluster 10,000
 * per-key commands issued in one tick on an auto-pipelined Cluster client (one round trip per
 * master), as the projection's own connection sends them.
 */
export async function nodeZaddRate(
  target: RedisTarget,
  prefix: string,
  ops: number,
  keyCount = 10_000,
): Promise<number> {
  const client =
    target.label === 'single'
      ? new Redis(target.servers.url, { enableAutoPipelining: false })
      : rawClient(target);
  const tag = `${prefix}zadd-baseline:`;
  const members = Array.from({ length: 1000 }, () => randomBytes(16));
  try {
    const started = performance.now();
    for (let done = 0; done < ops;) {
      if (client instanceof Cluster) {
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 10_000 && done < ops; i++, done++)
          writes.push(
            client.zadd(
              `${tag}${done % keyCount}`,
              1_767_225_600_000 + done,
              members[done % 1000]!,
            ),
          );
        await Promise.all(writes);
      } else {
        const p = client.pipeline();
        for (let i = 0; i < 10_000 && done < ops; i++, done++)
          p.zadd(`${tag}${done % keyCount}`, 1_767_225_600_000 + done, members[done % 1000]!);
        await p.exec();
      }
    }
    return ops / ((performance.now() - started) / 1000);
  } finally {
    client.disconnect();
    await deleteKeys(target, tag);
  }
}

/** ZADDs per second of `redis-benchmark` (64-deep pipelines, 50 clients), when it is installed. */
export async function serverZaddRate(
  target: RedisTarget,
  prefix: string,
  requests = 1_000_000,
): Promise<number | undefined> {
  const tag = `${prefix}zb:`;
  // redis-benchmark finds the cluster's other nodes from the first.
  const first = target.nodes?.[0];
  const { hostname, port } = new URL(first ? `redis://${first}` : target.servers.url);
  // On a cluster the key must carry `{tag}`, which redis-benchmark replaces by a tag of a slot of
  // the node each client talks to.
  const key = target.nodes ? `${tag}{tag}:__rand_int__` : `${tag}__rand_int__`;
  try {
    const out = execFileSync(
      'redis-benchmark',
      [
        ...(target.nodes ? ['--cluster'] : []),
        ...[
          '-h',
          hostname,
          '-p',
          port || '6379',
          '-q',
          '-n',
          String(requests),
          '-P',
          '64',
          '-r',
          '10000',
        ],
        ...['zadd', key, '__rand_int__', 'm__rand_int__'],
      ],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const match = /([\d.]+) requests per second/.exec(out);
    return match ? Number(match[1]) : undefined;
  } catch (error) {
    note(`redis-benchmark (${target.label}) not available or failed: ${String(error)}`);
    return undefined;
  } finally {
    await deleteKeys(target, tag);
  }
}
