import {
  connectEventStore,
  createHttpApp,
  createKysely,
  createLogger,
  createMetricsRegistry,
  createPool,
  ensureActiveCopies,
  ensureDatabase,
  finishHttpApp,
  loadConfig,
  runHttpService,
} from '@tweeter/shared';
import { ProjectorMetrics } from './runtime/metrics.ts';
import { isProjectionName, projectionNames, type ProjectionName } from './runtime/projection.ts';
import { Projector } from './runtime/projector.ts';

// Projector: runs the projections, each in its own loop, and serves health and metrics.
const config = loadConfig();
const logger = createLogger('projector', config.LOG_LEVEL);

// PROJECTOR_PROJECTIONS (comma-separated) runs a subset, e.g. to scale them out over processes.
const selected = (process.env.PROJECTOR_PROJECTIONS ?? projectionNames.join(','))
  .split(',')
  .map((n) => n.trim())
  .filter(Boolean);
const unknown = selected.filter((n) => !isProjectionName(n));
if (unknown.length > 0) {
  logger.fatal(`PROJECTOR_PROJECTIONS names unknown projections: ${unknown.join(', ')}`);
  process.exit(2);
}

await ensureDatabase(config.DATABASE_URL);
const eventStore = await connectEventStore(config, logger);
const pool = createPool(config.DATABASE_URL, { max: 10, applicationName: 'tweeter-projector' });
await ensureActiveCopies(createKysely(pool));
const registry = createMetricsRegistry('projector');
const projector = new Projector({
  config,
  pool,
  logger,
  eventStore,
  databaseUrl: config.DATABASE_URL,
  metrics: new ProjectorMetrics(registry),
  projections: selected as ProjectionName[],
});

const app = createHttpApp({
  name: 'projector',
  logger,
  registry,
  readiness: {
    database: () => pool.query('SELECT 1'),
    eventStore: () => eventStore.ping(),
  },
});
app.get('/status', (_req, res) => {
  res.json({ projections: projector.status() });
});
finishHttpApp(app, logger);
await runHttpService({
  name: 'projector',
  app,
  port: config.PROJECTOR_PORT,
  logger,
  stop: async () => {
    await projector.stop();
    await eventStore.close();
    await pool.end();
  },
});
await projector.start();
