import {
  connectEventStore,
  connectNats,
  createKysely,
  createMetricsRegistry,
  createPool,
  ensureDatabase,
  loadServiceSecret,
  migrate,
  type Logger,
} from '@tweeter/shared';
import type { Express } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { createDispatcherApp } from './app.ts';
import pg from 'pg';
import type { DispatcherConfig } from './config.ts';
import { DispatcherCursors } from './core/listings.ts';
import type { DispatcherContext } from './core/deps.ts';
import { createDispatcherMetrics } from './core/metrics.ts';
import { dispatcherMigrations } from './core/migrations.ts';
import type { DispatcherDatabase } from './core/tables.ts';
import { migrateWorkerSchema, startDeliveryWorker } from './core/worker.ts';
import { AttemptRecorder } from './delivery/attemptRecorder.ts';
import { WebhookClient } from './delivery/webhookClient.ts';
import { Intake } from './intake/intake.ts';
import { httpQueryApi, type QueryApi } from './runningDigest/queryApi.ts';

export interface RunningDispatcher {
  app: Express;
  ctx: DispatcherContext;
  stop(): Promise<void>;
}

export interface DispatcherOverrides {
  queryApi?: QueryApi;
  resolveHost?: (host: string) => Promise<string[]>;
  clock?: () => Date;
}

/**
 * The whole dispatcher: migrations, the JetStream intake, the job worker and the HTTP app. Every
 * part keeps its state in PostgreSQL, so a restarted process carries on where the last one was.
 */
export async function startDispatcher(
  config: DispatcherConfig,
  logger: Logger,
  overrides: DispatcherOverrides = {},
): Promise<RunningDispatcher> {
  await ensureDatabase(config.DATABASE_URL);
  const pool = createPool(config.DATABASE_URL, {
    max: config.DISPATCHER_DATABASE_POOL_SIZE,
    applicationName: 'tweeter-webhook-dispatcher',
  });
  const db = createKysely<DispatcherDatabase>(pool);
  // Attempt records skip the wait for the WAL flush: a PostgreSQL crash (not a dispatcher crash)
  // can lose the last few ms of them, and the deliveries concerned go out once more with the same
  // webhook-id — what at-least-once delivery allows anyway. Everything the intake commits before
  // acknowledging NATS, and every task and subscription change, stays synchronous.
  const recordPool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    // One batch is written at a time (AttemptRecorder); a second connection covers a reconnect.
    max: 2,
    application_name: 'tweeter-webhook-dispatcher-records',
    options: '-c synchronous_commit=off',
    connectionTimeoutMillis: 5000,
  });
  recordPool.on('error', () => undefined);
  const recordDb = createKysely<DispatcherDatabase>(recordPool);
  await migrate(pool, 'webhook_dispatcher', dispatcherMigrations);
  await migrateWorkerSchema(pool, logger);
  const cursorKey = await loadServiceSecret({
    databaseUrl: config.DATABASE_URL,
    service: 'webhook-dispatcher',
    name: 'cursor',
  });
  const eventStore = await connectEventStore(config, logger);
  const nats = await connectNats(config.NATS_URL, 'tweeter-webhook-dispatcher');
  const registry = createMetricsRegistry('webhook-dispatcher');
  const webhooks = new WebhookClient({
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
  });
  const ctx: DispatcherContext = {
    config,
    logger,
    pool,
    db,
    eventStore,
    webhooks,
    clock: overrides.clock ?? (() => new Date()),
    ids: uuidv7,
    ...(overrides.resolveHost ? { resolveHost: overrides.resolveHost } : {}),
    metrics: createDispatcherMetrics(registry, db),
    recorder: new AttemptRecorder(recordDb),
    cursors: new DispatcherCursors(cursorKey),
  };
  const queryApi = overrides.queryApi ?? httpQueryApi(config.API_URL, config.API_TOKEN);
  const worker = await startDeliveryWorker(ctx, queryApi);
  const intake = new Intake(ctx, nats, config.NATS_PREFIX);
  intake.start();
  const app = createDispatcherApp(ctx, registry, nats, queryApi);
  return {
    app,
    ctx,
    async stop() {
      await intake.stop();
      await worker.stop();
      await nats.close().catch(() => undefined);
      webhooks.close();
      await eventStore.close();
      await db.destroy();
      await recordDb.destroy();
    },
  };
}
