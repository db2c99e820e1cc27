/**
 * `npm run bench:commands`: POST /tweets end to end (real HTTP, 50 connections) against the
 * raw-append limit of this machine measured in the same run (docs/benchmarks.md). The service runs
 * as its own process (the real main.ts) so the load generator does not share its event loop.
 * Prints JSON lines; never fails.
 */
import autocannon from 'autocannon';
import { measureRawAppend, printFigure } from '@tweeter/shared/bench';
import {
  createTestDatabase,
  deleteRedisKeys,
  freePort,
  startService,
  testRedisPrefix,
  testRedisUrl,
} from '@tweeter/shared/testing';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const connections = 50;
const users = 50;

function load(base: string, tokens: string[], seconds: number) {
  let next = 0;
  return autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/tweets',
        setupRequest: (request) => ({
          ...request,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${tokens[next++ % tokens.length]}`,
          },
          body: JSON.stringify({ text: `Benchmark tweet ${next} — with a little unicode ✨` }),
        }),
      },
    ],
  });
}

const database = await createTestDatabase();
const redisPrefix = testRedisPrefix();
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const service = await startService({
  name: 'command-service',
  entry: 'command-service/src/main.ts',
  port,
  env: {
    DATABASE_URL: database.url,
    EVENTSTORE_CONNECTION_STRING: '',
    REDIS_PREFIX: redisPrefix,
    COMMAND_PORT: String(port),
    // Access logs at info would measure the terminal; the limiter still runs (one Redis call per
    // request) with a budget the benchmark cannot exhaust.
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    RATE_LIMIT_WRITES_PER_MINUTE: '1000000000',
    // The setup signs up more users from one address than the sign-up limit allows.
    RATE_LIMIT_SIGNUPS_PER_HOUR: '0',
  },
});
try {
  const tokens: string[] = [];
  for (let i = 0; i < users; i++) {
    const response = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `bench_${i}` }),
    });
    tokens.push(((await response.json()) as { token: string }).token);
  }
  await load(base, tokens, 2); // warm-up: JIT, connection pools, prepared statements
  const baseline = await measureRawAppend({ url: database.url, durationMs });
  const result = await load(base, tokens, Math.round(durationMs / 1000));
  const value = result.requests.average;
  printFigure({
    name: 'post-tweet',
    value,
    unit: 'req/s',
    p99: result.latency.p99,
    baseline,
    ratio: value / baseline,
    target: 0.3,
    connections,
    non2xx: result.non2xx,
    errors: result.errors,
    note: 'shared 2-core machine; service, PostgreSQL and load generator on the same host',
  });
} finally {
  // Let requests autocannon abandoned at the deadline finish before the service shuts down.
  await new Promise((r) => setTimeout(r, 500));
  await service.stop();
  await deleteRedisKeys(testRedisUrl(), redisPrefix);
  await database.drop();
}
