import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  closeServer,
  connectRedis,
  createLogger,
  createPool,
  decodeEvent,
  listen,
  PostgresEventStore,
  type DecodedEvent,
  type Logger,
  type Pool,
  type Position,
  type RedisClient,
  type TweeterEvent,
  userStreamId,
} from '@tweeter/shared';
import {
  appendSignedUpUser,
  createTestDatabase,
  deleteTestRedisKeys,
  standbyCopyOf,
  testPgStandbyUrl,
  testReadsFromStandby,
  testRedisPrefix,
  testRedisServers,
  waitForStandbyReplay,
  type TestDatabase,
} from '@tweeter/shared/testing';
import { v7 as uuidv7 } from 'uuid';
// The real projections, run in-process, seed the read model and Redis exactly as production does.
import { createProjection, type Projection } from '@tweeter/projector';
import { createQueryApp } from '../app.ts';

export interface TestUser {
  id: string;
  username: string;
  token: string;
}

/**
 * Where the service under test reads its read model: a standby server (a URL without database,
 * whose copy of the test database is read), how far it may lag, and whether the harness waits for
 * the standby to replay everything before each of its reads (`get`, `all`), so that a suite
 * written for the primary reads the same from the standby.
 */
export interface ReadReplicaOptions {
  standbyUrl: string;
  maxLagMs?: number;
  syncBeforeReads?: boolean;
}

/** The query app on a free loopback port, with test settings (no caches to wait out, quiet logs). */
async function serveQueryApp(
  deps: {
    pool: Pool;
    readPool?: Pool | undefined;
    redis: RedisClient;
    eventStore: PostgresEventStore;
  },
  consistencyWaitMs: number,
  options: { maxLagMs?: number | undefined; logger?: Logger | undefined } = {},
): Promise<{ server: Server; baseUrl: string }> {
  const app = createQueryApp({
    ...deps,
    config: {
      CONSISTENCY_WAIT_MS: consistencyWaitMs,
      ACTIVE_COPY_CACHE_MS: 0,
      AUTHOR_CACHE_MS: 1000,
      ...(options.maxLagMs === undefined ? {} : { READ_REPLICA_MAX_LAG_MS: options.maxLagMs }),
    },
    logger:
      options.logger ?? createLogger('query-service-test', process.env.TEST_LOG_LEVEL ?? 'silent'),
    clock: Date.now,
    cursorKey: randomBytes(32),
  });
  const server = createServer(app);
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;
  return { server, baseUrl: `http://127.0.0.1:${port}` };
}

/**
 * The query service in-process on a free port, against its own database and Redis prefix, with
 * helpers to append catalogue events and to run the projections over them on demand.
 */
export class QueryServiceUnderTest {
  private projections: Projection[] = [];
  private projected: Position | null = null;
  private clockMs = Date.parse('2026-01-01T00:00:00.000Z');

  private constructor(
    readonly database: TestDatabase,
    readonly eventStore: PostgresEventStore,
    readonly pool: Pool,
    readonly redis: RedisClient,
    readonly redisPrefix: string,
    private readonly server: Server,
    readonly baseUrl: string,
    private readonly fanoutMaxFollowers: number,
    /** The standby's copy of the database, when the service reads from one. */
    readonly readPool: Pool | undefined,
    private readonly syncBeforeReads: boolean,
  ) {}

  /**
   * `readReplica`: read the read model from a standby (scripts/pg-standby.sh). Default: the run's
   * standby when TEST_READS_FROM_STANDBY=1 (waiting for its replay before each read), else none;
   * `null`: none.
   */
  static async start(
    options: {
      fanoutMaxFollowers?: number;
      consistencyWaitMs?: number;
      readReplica?: ReadReplicaOptions | null;
      logger?: Logger;
    } = {},
  ): Promise<QueryServiceUnderTest> {
    const replica =
      options.readReplica === undefined
        ? testReadsFromStandby()
          ? { standbyUrl: testPgStandbyUrl()!, syncBeforeReads: true }
          : null
        : options.readReplica;
    const database = await createTestDatabase();
    const eventStore = await PostgresEventStore.connect({ url: database.url });
    const pool = createPool(database.url, { max: 8 });
    const readPool = replica
      ? createPool(standbyCopyOf(database.url, replica.standbyUrl), {
          max: 8,
          connectionTimeoutMillis: 2000,
        })
      : undefined;
    const redisPrefix = testRedisPrefix();
    const redis = connectRedis(testRedisServers(), redisPrefix);
    const { server, baseUrl } = await serveQueryApp(
      { pool, readPool, redis, eventStore },
      options.consistencyWaitMs ?? 2000,
      { maxLagMs: replica?.maxLagMs, logger: options.logger },
    );
    const sut = new QueryServiceUnderTest(
      database,
      eventStore,
      pool,
      redis,
      redisPrefix,
      server,
      baseUrl,
      options.fanoutMaxFollowers ?? 10_000,
      readPool,
      replica?.syncBeforeReads ?? false,
    );
    await sut.useCopies('read_model', 'v1');
    return sut;
  }

  /**
   * Another instance of the service on the same database, e.g. with a Redis that does not answer
   * (`redisUrl`), as a second replica behind a load balancer would be; `primaryOnly`: one that
   * reads the primary even when this one reads a standby.
   */
  async startAnotherInstance(options: { redisUrl?: string; primaryOnly?: boolean } = {}): Promise<{
    baseUrl: string;
    close(): Promise<void>;
  }> {
    const redis = connectRedis(options.redisUrl ?? testRedisServers(), this.redisPrefix);
    redis.on('error', () => undefined);
    const readPool = options.primaryOnly ? undefined : this.readPool;
    const { server, baseUrl } = await serveQueryApp(
      { pool: this.pool, readPool, redis, eventStore: this.eventStore },
      2000,
    );
    return {
      baseUrl,
      async close() {
        await closeServer(server);
        redis.disconnect();
      },
    };
  }

  /** Projects into these copies from now on (from the start of the log for a new copy). */
  async useCopies(readModel: string, timelines: string): Promise<void> {
    await Promise.all(this.projections.map((p) => p.close()));
    const { url, clusterNodes } = testRedisServers();
    const deps = {
      config: {
        REDIS_URL: url,
        REDIS_CLUSTER_NODES: clusterNodes && [...clusterNodes],
        REDIS_PREFIX: this.redisPrefix,
        NATS_URL: 'nats://unused',
        NATS_PREFIX: '',
        FANOUT_MAX_FOLLOWERS: this.fanoutMaxFollowers,
      },
      pool: this.pool,
      logger: createLogger('projection-test', 'silent'),
    };
    this.projections = [
      createProjection('read-model', readModel, deps),
      createProjection('timelines', timelines, deps),
    ];
    for (const p of this.projections) await p.setup();
    this.projected = null;
  }

  /** Applies every event appended so far to both projections (each from its own checkpoint). */
  async project(): Promise<void> {
    // The log shows an event once every older transaction on the server has ended (other test
    // files' too): wait for that, or the newest appends would be left out.
    await this.eventStore.settled();
    const events = [];
    let after: Position | null = null;
    for (;;) {
      const batch = await this.eventStore.readAll({ after, maxCount: 5000 });
      if (batch.length === 0) break;
      events.push(...batch);
      after = batch.at(-1)!.position;
    }
    if (after === null) return;
    for (const p of this.projections) {
      const from = await p.checkpoint();
      const pending = events.filter((e) => from === null || e.position > from);
      if (pending.length === 0) continue;
      const decoded = pending.map(decodeEvent).filter((e): e is DecodedEvent => e !== null);
      for (let i = 0; i < decoded.length; i += 2000) {
        const chunk = decoded.slice(i, i + 2000);
        const upTo = i + 2000 >= decoded.length ? after : chunk.at(-1)!.position;
        await p.apply(chunk, upTo, i === 0 ? from : decoded[i - 1]!.position);
      }
      await p.caughtUp?.(after);
    }
    this.projected = after;
  }

  get lastProjected(): Position | null {
    return this.projected;
  }

  /** A strictly increasing clock for the events' times (ms), so tests control ties. */
  tick(ms = 1): string {
    this.clockMs += ms;
    return new Date(this.clockMs).toISOString();
  }

  async append(stream: string, event: TweeterEvent, occurredAt = this.tick(0)): Promise<Position> {
    const result = await this.eventStore.append(
      stream,
      [
        {
          id: uuidv7(),
          type: event.type,
          data: event.data,
          metadata: {
            schemaVersion: 1,
            correlationId: 'test',
            causationId: 'test',
            actorId: null,
            occurredAt,
          },
        },
      ],
      { expectedRevision: 'any' },
    );
    return result.position;
  }

  async createUser(username = `u${randomBytes(4).toString('hex')}`): Promise<TestUser> {
    const { id, token } = await appendSignedUpUser(this.eventStore, {
      username,
      createdAt: this.tick(),
    });
    return { id, username, token };
  }

  follow(followerId: string, followeeId: string): Promise<Position> {
    return this.appendEdge('Followed', followerId, followeeId);
  }

  unfollow(followerId: string, followeeId: string): Promise<Position> {
    return this.appendEdge('Unfollowed', followerId, followeeId);
  }

  /** A Followed or Unfollowed on the pair's stream, a tick after the previous event. */
  private appendEdge(
    type: 'Followed' | 'Unfollowed',
    followerId: string,
    followeeId: string,
  ): Promise<Position> {
    const data = { followerId, followeeId };
    return this.append(`follow-${followerId}-${followeeId}`, { type, data }, this.tick());
  }

  /** Posts a tweet `tickMs` after the previous event (0: the same millisecond). */
  async post(
    authorId: string,
    text = 'hello',
    tickMs = 1,
  ): Promise<{ id: string; position: Position }> {
    const id = uuidv7();
    const createdAt = this.tick(tickMs);
    const position = await this.append(`tweet-${id}`, {
      type: 'TweetPosted',
      data: { tweetId: id, authorId, text, createdAt },
    });
    return { id, position };
  }

  deleteTweet(tweetId: string, authorId: string): Promise<Position> {
    return this.append(`tweet-${tweetId}`, { type: 'TweetDeleted', data: { tweetId, authorId } });
  }

  deleteUser(userId: string): Promise<Position> {
    return this.append(userStreamId(userId), { type: 'UserDeleted', data: { userId } });
  }

  async get(
    path: string,
    options: { token?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (this.syncBeforeReads) await this.standbyReplayed();
    const response = await fetch(`${this.baseUrl}${path}`, { headers });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  /** Every page of a listing; the ids in order. Fails on a repeated id or a non-200. */
  async all(path: string, options: { token?: string; limit?: number } = {}): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const url = `${path}${sep}limit=${options.limit ?? 100}${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await this.get(url, options.token ? { token: options.token } : {});
      if (page.status !== 200)
        throw new Error(`${url}: ${page.status} ${JSON.stringify(page.body)}`);
      for (const item of page.body.data as { id: string }[]) ids.push(item.id);
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    return ids;
  }

  /** Waits until the standby has replayed everything committed on the primary so far. */
  async standbyReplayed(timeoutMs?: number): Promise<void> {
    if (!this.readPool) throw new Error('this service under test reads from no standby');
    await waitForStandbyReplay(this.pool, this.readPool, timeoutMs);
  }

  /** Deletes every key under this test's prefix (a "flush" that leaves other tests alone). */
  async flushRedis(): Promise<void> {
    await deleteTestRedisKeys(this.redisPrefix);
  }

  async close(): Promise<void> {
    await closeServer(this.server);
    await Promise.all(this.projections.map((p) => p.close()));
    await this.flushRedis();
    this.redis.disconnect();
    await this.eventStore.close();
    await this.pool.end();
    await this.readPool?.end();
    await this.database.drop();
  }
}
