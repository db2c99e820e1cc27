import { Redis } from 'ioredis';
import {
  connectNats,
  connectRedis,
  natsNames,
  redisMasters,
  timelineKeys,
  type RedisClient,
} from '@tweeter/shared';
import {
  testNatsPrefix,
  testNatsServers,
  testRedisServers,
  testRedisUrl,
  testStackOnClusters,
  useModelledStack,
} from '@tweeter/shared/testing';
import { describe, expect, it } from 'vitest';

// `npm run test:cluster` runs the end-to-end suites with TEST_STACK=cluster. This file proves that
// such a run really puts the product on the local clusters, not on the single servers: the
// timelines on the Redis Cluster, the event stream on the NATS cluster with 3 replicas, and the
// query service reading its read model from the standby.
const clustered = testStackOnClusters();
if (!clustered)
  console.warn(
    'clusteredStack.e2e: skipped outside TEST_STACK=cluster (npm run test:cluster runs it)',
  );

describe.runIf(clustered)(
  `the end-to-end stack on the local clusters${clustered ? '' : ' (skipped: runs under TEST_STACK=cluster, in npm run test:cluster)'}`,
  () => {
    const natsPrefix = testNatsPrefix();
    const fixture = useModelledStack(
      // A busy 2-core machine may need longer than the default 2 s.
      { NATS_PREFIX: natsPrefix, CONSISTENCY_WAIT_MS: '15000' },
      20261201,
    );

    it('timelines on the Redis Cluster, events on the NATS cluster, reads from the standby', async () => {
      const { api } = fixture;
      const author = await api.createUser('cl_author');
      const reader = await api.createUser('cl_reader');
      await api.follow(reader, author);
      const tweet = await api.post(author, 'on every cluster');
      const home = await api.read(`/users/${reader.id}/timeline`, { token: reader.token });
      expect(home.status, JSON.stringify(home.body)).toBe(200);
      expect((home.body.data as { id: string }[]).map((t) => t.id)).toEqual([tweet]);

      // Redis: the copy's keys are on the cluster's masters, none on the single server.
      const prefix = fixture.stack.redisPrefix;
      const cluster: RedisClient = connectRedis(testRedisServers(), prefix);
      const single = new Redis(testRedisUrl());
      try {
        expect(await cluster.exists(timelineKeys('v1').meta)).toBe(1);
        expect(redisMasters(cluster).length).toBeGreaterThanOrEqual(3);
        expect(await single.keys(`${prefix}*`)).toEqual([]);
      } finally {
        cluster.disconnect();
        single.disconnect();
      }

      // NATS: the stream is on the cluster, with 3 replicas, and holds the events.
      const nc = await connectNats(testNatsServers(), 'clustered-stack-check');
      try {
        const jsm = await nc.jetstreamManager();
        const deadline = Date.now() + 15_000;
        let info = await jsm.streams.info(natsNames(natsPrefix).stream);
        while (info.state.messages < 4 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          info = await jsm.streams.info(natsNames(natsPrefix).stream);
        }
        expect(info.config.num_replicas).toBe(3);
        expect(info.cluster?.replicas?.length).toBe(2);
        expect(info.state.messages).toBeGreaterThanOrEqual(4);
        await jsm.streams.delete(natsNames(natsPrefix).stream);
      } finally {
        await nc.close();
      }

      // PostgreSQL: the query service has a read replica and reads from it.
      const metrics = await (await fetch(`${fixture.stack.query.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^query_read_replica_state\{state="replica"[^}]*\} 1$/m);
    });
  },
);
