import {
  connectEventStore,
  createLogger,
  createPool,
  connectRedis,
  redisServersOf,
  ensureDatabase,
  redactUrl,
  sameDatabaseOn,
  loadServiceSecret,
  runHttpService,
} from '@tweeter/shared';
import { createQueryApp } from './app.ts';
import { loadQueryConfig } from './config.ts';

// Query service: reads the projections with cursor pagination.
const config = loadQueryConfig();
const logger = createLogger('query-service', config.LOG_LEVEL);
await ensureDatabase(config.DATABASE_URL);
const cursorKey = await loadServiceSecret({
  databaseUrl: config.DATABASE_URL,
  service: 'query-service',
  name: 'cursor',
  configured: config.CURSOR_SECRET,
});
const eventStore = await connectEventStore(config, logger);
const pool = createPool(config.DATABASE_URL, {
  max: config.QUERY_DATABASE_POOL_SIZE,
  applicationName: 'tweeter-query-service',
});
// The read replica (a streaming hot standby of DATABASE_URL's server), when there is one: only
// reads of the read model go there. A replica that refuses connections is read around quickly.
const readUrl =
  config.READ_DATABASE_URL && sameDatabaseOn(config.READ_DATABASE_URL, config.DATABASE_URL);
const readPool = readUrl
  ? createPool(readUrl, {
      max: config.QUERY_DATABASE_POOL_SIZE,
      applicationName: 'tweeter-query-service',
      connectionTimeoutMillis: 2000,
    })
  : undefined;
if (readUrl) logger.info({ readDatabase: redactUrl(readUrl) }, 'read replica configured');
const redis = connectRedis(redisServersOf(config), config.REDIS_PREFIX);
redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
const app = createQueryApp({
  pool,
  readPool,
  redis,
  eventStore,
  config,
  logger,
  clock: Date.now,
  cursorKey,
});
await runHttpService({
  name: 'query-service',
  app,
  port: config.QUERY_PORT,
  logger,
  closing: () => (app.locals.closeStreams as () => void)(),
  stop: async () => {
    await eventStore.close();
    redis.disconnect();
    await pool.end();
    await readPool?.end();
  },
});
