import {
  connectEventStore,
  connectRedis,
  createLogger,
  redisServersOf,
  runHttpService,
} from '@tweeter/shared';
import { v7 as uuidv7 } from 'uuid';
import { createCommandApp } from './app.ts';
import { loadCommandConfig } from './config.ts';
import { loadTokenSecret } from './core/tokenSecret.ts';

const config = loadCommandConfig();
const logger = createLogger('command-service', config.LOG_LEVEL);
const eventStore = await connectEventStore(config, logger);
const redis = connectRedis(redisServersOf(config), config.REDIS_PREFIX);
const app = createCommandApp({
  eventStore,
  redis,
  clock: () => new Date(),
  ids: uuidv7,
  config,
  logger,
  tokenSecret: await loadTokenSecret(config),
});
await runHttpService({
  name: 'command-service',
  app,
  port: config.COMMAND_PORT,
  logger,
  stop: async () => {
    await eventStore.close();
    redis.disconnect();
  },
});
