import { createServer } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { closeServer, listen, onShutdown } from './lifecycle.ts';

/**
 * Listens with `app` on `port` and closes the server, then `stop`, on SIGINT/SIGTERM. `closing`
 * runs first: it ends long-lived responses (event streams), which the server would wait for.
 */
export async function runHttpService(options: {
  name: string;
  app: Express;
  port: number;
  logger: Logger;
  stop: () => Promise<void>;
  closing?: () => void;
}): Promise<void> {
  const server = createServer(options.app);
  server.keepAliveTimeout = 65_000;
  onShutdown(options.logger, async () => {
    options.closing?.();
    await closeServer(server);
    await options.stop();
  });
  await listen(server, options.port);
  options.logger.info(
    { port: options.port },
    `${options.name} listening on http://127.0.0.1:${options.port}`,
  );
}
