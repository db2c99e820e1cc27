import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createHttpApp,
  createLogger,
  createMetricsRegistry,
  environmentSchema,
  finishHttpApp,
  loadConfig,
  port,
  Problem,
  runHttpService,
} from '@tweeter/shared';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { z } from 'zod';

/**
 * The web client's server (`npm start` runs it at WEB_PORT, 3000): the built single-page client
 * (web/dist, `npm run build`), and the services under one origin: /api/command/* goes to the
 * command service, /api/query/* to the query service (the timeline's event stream included,
 * passed on as it comes). One origin needs no CORS, and the browser never talks to the services'
 * ports. The client's addresses come forwarded (X-Forwarded-For), so rate limits still see them.
 */
const config = loadConfig(
  process.env,
  environmentSchema.extend({
    WEB_PORT: port(3000),
    /** Where the command service answers (default: 127.0.0.1 at COMMAND_PORT). */
    COMMAND_URL: z.url().optional(),
    /** Where the query service answers (default: 127.0.0.1 at QUERY_PORT). */
    QUERY_URL: z.url().optional(),
  }),
);
const logger = createLogger('web', config.LOG_LEVEL);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const app = createHttpApp({
  name: 'web',
  logger,
  registry: createMetricsRegistry('web'),
  readiness: {},
  // Bodies go to the services as they came: they validate them.
  parseBodies: false,
});

/** A service that cannot be reached is a 503 problem, as from the services themselves. */
const unavailable = (res: ServerResponse | Socket) => {
  if (!('writeHead' in res) || res.headersSent) return;
  const problem = new Problem('unavailable', 'The service is not reachable; try again in a moment');
  res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
  res.end(JSON.stringify(problem.toJSON()));
};
for (const [prefix, target] of [
  ['/api/command', config.COMMAND_URL ?? `http://127.0.0.1:${config.COMMAND_PORT}`],
  ['/api/query', config.QUERY_URL ?? `http://127.0.0.1:${config.QUERY_PORT}`],
] as const)
  app.use(
    prefix,
    createProxyMiddleware({
      target,
      xfwd: true,
      // Quiet: the web server's own access log has every request, without its headers.
      logger: undefined,
      on: { error: (_error, _req, res) => unavailable(res) },
    }),
  );

if (!existsSync(`${dist}index.html`)) logger.warn(`${dist} has no built client: run npm run build`);
app.use(express.static(dist, { index: false, maxAge: '1h' }));
// Every page of the client is the same document; it reads the path itself (`/`, `/@username`).
app.get(/^\/(?!api\/).*/, (_req, res) => {
  res.setHeader('Cache-Control', 'no-cache');
  res.sendFile(`${dist}index.html`);
});
finishHttpApp(app, logger);

await runHttpService({
  name: 'web',
  app,
  port: config.WEB_PORT,
  logger,
  stop: () => Promise.resolve(),
});
