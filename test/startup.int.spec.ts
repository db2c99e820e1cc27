import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deleteRedisKeys,
  freePort,
  printOutputs,
  startService,
  testDatabasePrefix,
  testNatsPrefix,
  testRedisPrefix,
  testRedisUrl,
  uniqueTag,
  type ServiceProcess,
} from '@tweeter/shared/testing';

// Every process of the product, started at the same moment on a database that does not exist yet,
// the way `npm start` or a deployment does on a fresh machine. Each creates the database and its
// own schema; they take turns on the schema lock, so none of them sees another's half-made tables.
const rounds = Number(process.env.STARTUP_RACE_ROUNDS ?? 5);

const adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const created: string[] = [];

afterAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

async function startAllAtOnce(): Promise<ServiceProcess[]> {
  const name = `${testDatabasePrefix()}${uniqueTag()}`;
  created.push(name);
  const redisPrefix = testRedisPrefix();
  const ports = {
    COMMAND_PORT: await freePort(),
    QUERY_PORT: await freePort(),
    PROJECTOR_PORT: await freePort(),
    DISPATCHER_PORT: await freePort(),
  };
  const env = {
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${name}`,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: redisPrefix,
    NATS_PREFIX: testNatsPrefix(),
    LOG_LEVEL: 'warn',
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
  };
  const services = [
    ['command-service', 'command-service/src/main.ts', ports.COMMAND_PORT],
    ['query-service', 'query-service/src/main.ts', ports.QUERY_PORT],
    ['projector', 'projector/src/main.ts', ports.PROJECTOR_PORT],
    ['webhook-dispatcher', 'webhook-dispatcher/src/main.ts', ports.DISPATCHER_PORT],
  ] as const;
  const results = await Promise.allSettled(
    services.map(([service, entry, port]) =>
      startService({ name: service, entry, env, port, timeoutMs: 90_000 }),
    ),
  );
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  await Promise.all(started.map((s) => s.stop()));
  await deleteRedisKeys(testRedisUrl(), redisPrefix);
  if (failures.length > 0) printOutputs(started);
  expect(failures, 'every process became ready').toEqual([]);
  return started;
}

describe('a fresh database', () => {
  it(`lets every process start at the same moment, ${rounds} times in a row`, async () => {
    for (let round = 0; round < rounds; round++) {
      const started = await startAllAtOnce();
      expect(started.map((s) => s.name)).toHaveLength(4);
    }
  });
});
