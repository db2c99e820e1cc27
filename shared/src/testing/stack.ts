import { connectRedis, redisMasters } from '../redis/redis.ts';
import { freePort, printOutputs, startService, type ServiceProcess } from './processes.ts';
import {
  createTestDatabase,
  testNatsPrefix,
  testNatsEnv,
  testReadReplicaEnv,
  testRedisEnv,
  testRedisPrefix,
  testRedisServers,
  type TestDatabase,
} from './resources.ts';

/** The whole product as child processes: command service, projector, query service. */
export interface Stack {
  database: TestDatabase;
  redisPrefix: string;
  /** The environment every process of the stack runs with (to start more of them). */
  env: Record<string, string>;
  command: ServiceProcess;
  /** Replaced by `restartProjector`. */
  projector: ServiceProcess;
  query: ServiceProcess;
  stopProjector(): Promise<void>;
  /** Starts a new projector process on the same port and environment. */
  startProjector(): Promise<void>;
  /** Deletes every key of this stack's prefix in one atomic step (a flush that spares other runs). */
  flushRedis(): Promise<number>;
  stop(options?: { printOutput?: boolean }): Promise<void>;
}

// Atomic, unlike SCAN + DEL from the client: the projector never sees half a flush. On a cluster
// it runs on each master over that master's keys, which lie in many slots: one UNLINK per key.
const deletePrefix = `#!lua flags=allow-cross-slot-keys
local keys = redis.call('KEYS', ARGV[1])
for _, key in ipairs(keys) do redis.call('UNLINK', key) end
return #keys`;

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const database = await createTestDatabase();
  const redisPrefix = testRedisPrefix();
  const [commandPort, projectorPort, queryPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const common = {
    DATABASE_URL: database.url,
    ...testRedisEnv(),
    ...testNatsEnv(),
    ...testReadReplicaEnv(),
    REDIS_PREFIX: redisPrefix,
    NATS_PREFIX: testNatsPrefix(),
    RATE_LIMIT_WRITES_PER_MINUTE: '0',
    RATE_LIMIT_SIGNUPS_PER_HOUR: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    COMMAND_PORT: String(commandPort),
    PROJECTOR_PORT: String(projectorPort),
    QUERY_PORT: String(queryPort),
    ...env,
  };
  const started: ServiceProcess[] = [];
  try {
    // The three start in parallel (each creates what it needs, safely under concurrency).
    const startProjector = () =>
      startService({
        name: 'projector',
        entry: 'projector/src/main.ts',
        // Its info lines (caught up, checkpoint moved) explain a failure; printed only then.
        env: { ...common, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info' },
        port: projectorPort,
      });
    const [command, projector, query] = await Promise.all([
      startService({
        name: 'command-service',
        entry: 'command-service/src/main.ts',
        env: common,
        port: commandPort,
      }).then((s) => (started.push(s), s)),
      startProjector().then((s) => (started.push(s), s)),
      startService({
        name: 'query-service',
        entry: 'query-service/src/main.ts',
        env: common,
        port: queryPort,
      }).then((s) => (started.push(s), s)),
    ]);
    const flushRedis = async () => {
      const redis = connectRedis(testRedisServers(), '', { lazyConnect: true });
      try {
        await redis.connect();
        const counts = await Promise.all(
          redisMasters(redis).map((master) => master.eval(deletePrefix, 0, `${redisPrefix}*`)),
        );
        return (counts as number[]).reduce((sum, n) => sum + n, 0);
      } finally {
        redis.disconnect();
      }
    };
    const stack: Stack = {
      database,
      redisPrefix,
      env: common,
      command,
      projector,
      query,
      flushRedis,
      async stopProjector() {
        await stack.projector.stop();
      },
      async startProjector() {
        stack.projector = await startProjector();
      },
      async stop({ printOutput = false } = {}) {
        if (printOutput) printOutputs([command, stack.projector, query]);
        await Promise.all([command.stop(), stack.projector.stop(), query.stop()]);
        await flushRedis();
        await database.drop();
      },
    };
    return stack;
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    await database.drop();
    throw error;
  }
}
