import {
  ConfigError,
  connectEventStore,
  createHttpApp,
  createKysely,
  createLogger,
  createMetricsRegistry,
  createPool,
  ensureActiveCopies,
  ensureDatabase,
  finishHttpApp,
  runHttpService,
} from '@tweeter/shared';
import { loadProjectorConfig, type ProjectorConfig } from './config.ts';
import { declarationOf, defaultCopies } from './registry.ts';
import { ProjectorMetrics } from './runtime/metrics.ts';
import { Projector } from './runtime/projector.ts';

// Projector: runs the projections (all, or the PROJECTOR_PROJECTIONS subset), each in its own
// loop, and serves health and metrics.
let config: ProjectorConfig;
try {
  config = loadProjectorConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // One fatal line naming every bad value (e.g. an unknown name in PROJECTOR_PROJECTIONS), exit 2.
  createLogger('projector', 'info').fatal(error.message);
  process.exit(2);
}
const logger = createLogger('projector', config.LOG_LEVEL);

await ensureDatabase(config.DATABASE_URL);
const eventStore = await connectEventStore(config, logger);
const pool = createPool(config.DATABASE_URL, { max: 10, applicationName: 'tweeter-projector' });
await ensureActiveCopies(createKysely(pool), defaultCopies);
const registry = createMetricsRegistry('projector');
const projector = new Projector({
  config,
  pool,
  logger,
  eventStore,
  databaseUrl: config.DATABASE_URL,
  metrics: new ProjectorMetrics(registry),
  projections: config.PROJECTOR_PROJECTIONS.map((name) => declarationOf(name)),
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
