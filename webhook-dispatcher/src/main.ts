import { createLogger, runHttpService } from '@tweeter/shared';
import { loadDispatcherConfig } from './config.ts';
import { startDispatcher } from './dispatcher.ts';

// Webhook dispatcher: outgoing event webhooks and digest tasks (docs/webhooks.md).
const config = loadDispatcherConfig();
const logger = createLogger('webhook-dispatcher', config.LOG_LEVEL);
const dispatcher = await startDispatcher(config, logger);
await runHttpService({
  name: 'webhook-dispatcher',
  app: dispatcher.app,
  port: config.DISPATCHER_PORT,
  logger,
  stop: () => dispatcher.stop(),
});
