/**
 * `npm run bench:queries` (performance.md). Prints JSON lines; never fails.
 *
 * - timeline-read: GET /users/{id}/timeline (20 items, warm Redis) at 50 connections against the
 *   real query service process, with `baseline` = a bare node:http handler doing the same Redis
 *   round trips (bareTimelineServer.ts), measured in the same run; `ratio` = value / baseline.
 * - timeline-deep-page: p99 of a timeline page past the 800-entry cache (the PostgreSQL tail) for a
 *   user following 500 accounts on a log of 1,000,000 tweets, against the naive fan-out-on-read
 *   SQL (`author_id IN (follows) ORDER BY created_at DESC, id DESC`) on the same data and cursors.
 *
 * The read model is seeded with SQL and the reader's Redis keys are written in the timelines
 * layout directly (docs/projections.md): a million events through the projector would measure the
 * projector. The services run as their own processes so autocannon does not share their event loop.
 *
 * Env: BENCH_TWEETS (1,000,000), BENCH_DURATION_MS per round (6000), BENCH_KEEP=1 keeps the
 * database and Redis keys for profiling (printed; drop them by hand afterwards).
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import {
  createLogger,
  createPool,
  createRedis,
  encodeHomeMember,
  encodeTimelineMember,
  homeLayout,
  homeScore,
  encodeTweetBody,
  hashToken,
  homeTimelineCap,
  issueToken,
  PostgresEventStore,
  timelineKeys,
  userStreamId,
} from '@tweeter/shared';
import {
  createTestDatabase,
  deleteRedisKeys,
  freePort,
  startService,
  testRedisPrefix,
  testRedisUrl,
  type ServiceProcess,
} from '@tweeter/shared/testing';
import { v7 as uuidv7 } from 'uuid';
import { createProjection } from '@tweeter/projector';
import { CursorCodec } from '../src/core/cursor.ts';

const seconds = Number(process.env.BENCH_DURATION_MS ?? 6_000) / 1000;
const tweetCount = Number(process.env.BENCH_TWEETS ?? 1_000_000);
const authorCount = 2000;
const followed = 500;
const connections = 50;
const note = 'service, PostgreSQL, Redis and load generator share one 2-core machine';

const print = (figure: Record<string, unknown>) =>
  console.log(
    JSON.stringify(
      Object.fromEntries(
        Object.entries(figure).map(([k, v]) => [
          k,
          typeof v === 'number' ? Math.round(v * 100) / 100 : v,
        ]),
      ),
    ),
  );
const progress = (message: string) => process.stderr.write(`bench:queries: ${message}\n`);

const database = await createTestDatabase();
const redisPrefix = testRedisPrefix();
const redis = createRedis(testRedisUrl(), redisPrefix);
const pool = createPool(database.url, { max: 4 });
const services: ServiceProcess[] = [];

try {
  // ---- seed ----------------------------------------------------------------------------------
  progress(`seeding ${tweetCount} tweets by ${authorCount} authors`);
  const deps = {
    config: {
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: redisPrefix,
      NATS_URL: 'nats://unused',
      NATS_PREFIX: '',
      FANOUT_MAX_FOLLOWERS: 10_000,
    },
    pool,
    logger: createLogger('bench', 'silent'),
  };
  await createProjection('read-model', 'read_model', deps).setup();
  const readerId = uuidv7();
  const token = issueToken(readerId);
  const eventStore = await PostgresEventStore.connect({ url: database.url });
  await eventStore.append(
    userStreamId(readerId),
    [
      {
        id: uuidv7(),
        type: 'UserCreated',
        data: {
          userId: readerId,
          username: 'reader',
          displayName: 'Reader',
          bio: '',
          tokenHash: hashToken(token),
          createdAt: new Date().toISOString(),
        },
        metadata: {
          schemaVersion: 1,
          correlationId: 'bench',
          causationId: 'bench',
          actorId: null,
          occurredAt: new Date().toISOString(),
        },
      },
    ],
    { expectedRevision: 'no_stream' },
  );
  await eventStore.close();
  const start = Date.parse('2025-01-01T00:00:00.000Z');
  const spanMs = 365 * 24 * 3600 * 1000;
  await pool.query(
    `INSERT INTO read_model.users (id, username, username_lower, display_name, bio, created_at)
     SELECT md5('author' || i)::uuid, 'a' || i, 'a' || i, 'Author ' || i, '', $1::timestamptz
     FROM generate_series(1, $2::int) i
     UNION ALL SELECT $3::uuid, 'reader', 'reader', 'Reader', '', $1::timestamptz`,
    [new Date(start).toISOString(), authorCount, readerId],
  );
  await pool.query(
    `INSERT INTO read_model.follows (follower_id, followee_id, followed_at)
     SELECT $1::uuid, md5('author' || (i * ($2::int / $3::int)))::uuid, $4::timestamptz
     FROM generate_series(1, $3::int) i`,
    [readerId, authorCount, followed, new Date(start).toISOString()],
  );
  // Tweets spread evenly over authors and a year; chunks keep each statement's memory small.
  for (let from = 1; from <= tweetCount; from += 250_000) {
    const to = Math.min(tweetCount, from + 249_999);
    await pool.query(
      `INSERT INTO read_model.tweets (id, author_id, text, created_at)
       SELECT md5('tweet' || i)::uuid, md5('author' || (1 + (i::bigint * 7919) % $3::int))::uuid,
              'Tweet number ' || i || ', a little text of ordinary length for a tweet.',
              $4::timestamptz + (i::float8 / $5::float8 * $6::float8) * interval '1 millisecond'
       FROM generate_series($1::int, $2::int) i`,
      [from, to, authorCount, new Date(start).toISOString(), tweetCount, spanMs],
    );
    progress(`  ${to} tweets`);
  }
  await pool.query('VACUUM ANALYZE read_model.users, read_model.follows, read_model.tweets');

  // The reader's Redis copy: live, the newest 800 entries, their bodies, the boundary.
  const head = await pool.query<{ id: string; author_id: string; text: string; created_at: Date }>(
    `SELECT t.* FROM (SELECT followee_id AS author_id FROM read_model.follows WHERE follower_id = $1
                      UNION ALL SELECT $1::uuid) a
     CROSS JOIN LATERAL (SELECT * FROM read_model.tweets t WHERE t.author_id = a.author_id
                         ORDER BY t.created_at DESC, t.id DESC LIMIT $2) t
     ORDER BY t.created_at DESC, t.id DESC LIMIT $2`,
    [readerId, homeTimelineCap],
  );
  const keys = timelineKeys('v1');
  const w = redis.pipeline();
  w.hset(keys.meta, 'checkpoint', '0'.repeat(32), 'live', '1', 'layout', homeLayout);
  const oldest = head.rows.at(-1)!;
  w.hset(
    keys.user(readerId),
    'u',
    'reader',
    'd',
    'Reader',
    'bs',
    String(oldest.created_at.getTime()),
    'bm',
    encodeTimelineMember(oldest.id),
  );
  for (const row of head.rows) {
    w.zadd(keys.home(readerId), homeScore(row.created_at.getTime()), encodeHomeMember(row.id));
    w.set(
      keys.tweet(row.id),
      encodeTweetBody({
        id: row.id,
        authorId: row.author_id,
        text: row.text,
        createdAt: row.created_at.toISOString(),
      }),
    );
  }
  await w.exec();
  const keep = process.env.BENCH_KEEP === '1';
  if (keep)
    progress(
      `keeping the data: DATABASE_URL=${database.url} REDIS_PREFIX=${redisPrefix} reader=${readerId} token=${token}`,
    );

  // ---- services ------------------------------------------------------------------------------
  const cursorSecret = randomBytes(24).toString('hex');
  const [queryPort, barePort] = [await freePort(), await freePort()];
  const query = await startService({
    name: 'query-service',
    entry: 'query-service/src/main.ts',
    port: queryPort,
    env: {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: redisPrefix,
      QUERY_PORT: String(queryPort),
      CURSOR_SECRET: cursorSecret,
      EVENTSTORE_CONNECTION_STRING: '',
      // Access logs at info would measure the terminal.
      LOG_LEVEL: 'warn',
    },
  });
  services.push(query);
  const bare = await startService({
    name: 'bare timeline handler',
    entry: 'query-service/bench/bareTimelineServer.ts',
    port: barePort,
    env: {
      BENCH_PORT: String(barePort),
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: redisPrefix,
      BENCH_USER_ID: readerId,
    },
  });
  services.push(bare);

  // ---- timeline-read -------------------------------------------------------------------------
  const path = `/users/${readerId}/timeline?limit=20`;
  const check = await fetch(`${query.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const firstPage = (await check.json()) as { data: unknown[] };
  if (check.status !== 200 || firstPage.data.length !== 20)
    throw new Error(`unexpected answer ${check.status}`);
  const run = (url: string, duration: number) =>
    autocannon({ url, connections, duration, headers: { authorization: `Bearer ${token}` } });
  progress('timeline-read: warming up');
  await run(`${bare.baseUrl}${path}`, 2);
  await run(`${query.baseUrl}${path}`, 2);
  // Alternating rounds, median of each side: the machine is shared, and a burst of someone
  // else's work during one long run would otherwise decide the ratio.
  const rounds = 3;
  progress(
    `timeline-read: ${rounds} alternating rounds of ${seconds} s at ${connections} connections`,
  );
  const bareRuns: autocannon.Result[] = [];
  const ourRuns: autocannon.Result[] = [];
  for (let round = 0; round < rounds; round++) {
    bareRuns.push(await run(`${bare.baseUrl}${path}`, seconds));
    ourRuns.push(await run(`${query.baseUrl}${path}`, seconds));
  }
  const median = (runs: autocannon.Result[]) =>
    [...runs].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(runs.length / 2)]!;
  const baseline = median(bareRuns);
  const measured = median(ourRuns);
  const failures = ourRuns.reduce((n, r) => n + r.non2xx + r.errors, 0);
  if (failures > 0) progress(`timeline-read: ${failures} failed requests`);
  print({
    name: 'timeline-read',
    value: measured.requests.average,
    unit: 'req/s',
    baseline: baseline.requests.average,
    ratio: measured.requests.average / baseline.requests.average,
    p99: measured.latency.p99,
    baselineP99: baseline.latency.p99,
    connections,
    rounds: ourRuns.map((r, i) => [r.requests.average, bareRuns[i]!.requests.average]),
    note,
  });

  // ---- timeline-deep-page --------------------------------------------------------------------
  const codec = new CursorCodec(Buffer.from(cursorSecret, 'utf8'));
  const samples = 200;
  const boundaryMs = oldest.created_at.getTime();
  // Cursors at random depths below the cache: anywhere in the older part of the year but its first
  // day, so that every page has 20 older tweets to show.
  const day = 86_400_000;
  const cursors = Array.from({ length: samples }, () => {
    const at = start + day + Math.floor(Math.random() * (boundaryMs - start - day));
    return { at, id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' };
  });
  const p99 = (values: number[]) =>
    values.sort((a, b) => a - b)[Math.ceil(values.length * 0.99) - 1]!;
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  progress('timeline-deep-page: query service');
  const ours: number[] = [];
  for (const [i, c] of cursors.entries()) {
    const cursor = codec.encode('timeline', readerId, c);
    const ms = await time(async () => {
      const r = await fetch(
        `${query.baseUrl}/users/${readerId}/timeline?limit=20&cursor=${cursor}`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      const body = (await r.json()) as { data: unknown[] };
      if (r.status !== 200 || body.data.length !== 20)
        throw new Error(
          `deep page answered ${r.status} with ${body.data?.length} items: ${JSON.stringify(body).slice(0, 300)}`,
        );
    });
    if (i >= 10) ours.push(ms); // the first few warm the connection and the plans
  }
  progress('timeline-deep-page: naive fan-out-on-read SQL');
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const naive: number[] = [];
  for (const [i, c] of cursors.entries()) {
    const ms = await time(() =>
      client.query({
        name: 'naive',
        text: `SELECT t.id, t.author_id, t.text, t.created_at, u.username, u.display_name
               FROM read_model.tweets t JOIN read_model.users u ON u.id = t.author_id
               WHERE t.author_id IN (SELECT followee_id FROM read_model.follows WHERE follower_id = $1 UNION ALL SELECT $1::uuid)
                 AND (t.created_at, t.id) < ($2::timestamptz, $3::uuid)
               ORDER BY t.created_at DESC, t.id DESC LIMIT 21`,
        values: [readerId, new Date(c.at).toISOString(), c.id],
      }),
    );
    if (i >= 10) naive.push(ms);
  }
  await client.end();
  const ourP99 = p99(ours);
  const naiveP99 = p99(naive);
  print({
    name: 'timeline-deep-page',
    value: ourP99,
    unit: 'ms',
    baseline: naiveP99,
    ratio: ourP99 / naiveP99,
    tweets: tweetCount,
    following: followed,
    samples: ours.length,
    note: `${note}; value = p99 of the whole HTTP request (auth, Redis head, PostgreSQL tail), baseline = p99 of the naive SQL alone`,
  });
} catch (error) {
  progress(`failed: ${error instanceof Error ? error.message : String(error)}`);
  for (const s of services) process.stderr.write(`--- ${s.name} ---\n${s.output()}\n`);
} finally {
  await Promise.all(services.map((s) => s.stop()));
  if (process.env.BENCH_KEEP === '1') process.exit(0);
  await deleteRedisKeys(testRedisUrl(), redisPrefix);
  redis.disconnect();
  await pool.end();
  await database.drop();
}
