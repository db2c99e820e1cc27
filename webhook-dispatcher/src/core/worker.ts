import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { withSchemaLock, type Logger, type Pool } from '@tweeter/shared';
import {
  makeWorkerUtils,
  run,
  type Logger as WorkerLogger,
  type LogFunctionFactory,
  type Runner,
  type WorkerUtils,
  type WorkerEvents,
  Logger as GraphileLogger,
} from 'graphile-worker';
import pg from 'pg';
import type { DispatcherContext } from './deps.ts';
import {
  drainSubscriptionTask,
  runDigestTask,
  scheduleStrandedDrains,
  workerSchema,
} from './jobs.ts';
import { drainSubscription } from '../delivery/drainSubscription.ts';
import { runDigest } from '../runningDigest/runDigest.ts';
import type { QueryApi } from '../runningDigest/queryApi.ts';
import { workerConcurrency } from '../config.ts';

/** graphile-worker's own tables, created or upgraded in the dispatcher's database. */
export async function migrateWorkerSchema(pool: Pool, logger: Logger): Promise<void> {
  // makeWorkerUtils migrates already; it runs under the lock every schema change of the product
  // takes, so that no other service's migrator introspects the catalogue while it creates tables.
  await withSchemaLock(pool, async () => {
    const utils = await makeWorkerUtils({
      pgPool: pool,
      schema: workerSchema,
      logger: workerLogger(logger),
    });
    await utils.release();
  });
}

export interface DeliveryWorker {
  stop(): Promise<void>;
}

/**
 * Runs the jobs: one graphile-worker pool whose concurrency is RATE_LIMIT_MAX_SIMULTANEOUS_JOBS.
 * Every job sends at most one request at a time, so that is also the cap on requests in flight.
 */
export async function startDeliveryWorker(
  ctx: DispatcherContext,
  queryApi: QueryApi,
): Promise<DeliveryWorker> {
  const liveness = await WorkerLiveness.start(ctx);
  const runner: Runner = await run({
    pgPool: ctx.pool,
    schema: workerSchema,
    concurrency: workerConcurrency(ctx.config.RATE_LIMIT_MAX_SIMULTANEOUS_JOBS),
    // Future jobs (retries) are found by polling; keep it close to the retry delays tests use.
    pollInterval: Math.min(1000, Math.max(100, Math.floor(ctx.config.RESCHEDULE_INTERVAL / 2))),
    noHandleSignals: true,
    logger: workerLogger(ctx.logger),
    taskList: {
      [drainSubscriptionTask]: async (payload) => {
        await drainSubscription(ctx, (payload as { subscriptionId: string }).subscriptionId);
      },
      [runDigestTask]: async (payload) => {
        await runDigest(ctx, queryApi, (payload as { taskId: string }).taskId);
      },
    },
    events: liveness.events,
  });
  await liveness.reap();
  const sweeper = setInterval(() => {
    scheduleStrandedDrains(ctx.db)
      .then((stranded) => {
        if (stranded.length > 0)
          ctx.logger.warn(
            { subscriptions: stranded },
            'unfinished deliveries had no drain job; scheduled one',
          );
      })
      .catch((error: unknown) => ctx.logger.warn({ err: error }, 'stranded-delivery sweep failed'));
  }, strandedSweepMs);
  sweeper.unref();
  return {
    async stop() {
      clearInterval(sweeper);
      await runner.stop();
      await liveness.stop();
    },
  };
}

/** How often unfinished deliveries without a drain job are looked for (see scheduleStrandedDrains). */
const strandedSweepMs = 15_000;

/**
 * graphile-worker releases the jobs of a worker that died without shutting down only after four
 * hours. A killed dispatcher must not hold its subscriptions' queues that long, so each process
 * registers its workers and holds a session advisory lock for as long as it lives; whoever can
 * take a registered process's lock knows that process is gone and unlocks its jobs at once.
 * Jobs locked by a worker nobody registered (killed between starting a worker and recording it)
 * are released once their lock is a minute old.
 */
class WorkerLiveness {
  readonly events = new EventEmitter() as WorkerEvents;
  private readonly workerIds: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private recording = Promise.resolve();

  private constructor(
    private readonly ctx: DispatcherContext,
    private readonly instanceId: string,
    private readonly session: pg.Client,
    private readonly utils: WorkerUtils,
  ) {}

  static async start(ctx: DispatcherContext): Promise<WorkerLiveness> {
    const instanceId = `dispatcher-${randomBytes(8).toString('hex')}`;
    const session = new pg.Client({
      connectionString: ctx.config.DATABASE_URL,
      application_name: 'tweeter-webhook-dispatcher-liveness',
    });
    session.on('error', (error) =>
      ctx.logger.warn({ err: error }, 'liveness session lost; jobs may be released elsewhere'),
    );
    await session.connect();
    await session.query(
      `INSERT INTO webhooks.worker_instances (instance_id) VALUES ($1) ON CONFLICT DO NOTHING`,
      [instanceId],
    );
    await session.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [lockName(instanceId)]);
    const utils = await makeWorkerUtils({
      pgPool: ctx.pool,
      schema: workerSchema,
      logger: workerLogger(ctx.logger),
    });
    const liveness = new WorkerLiveness(ctx, instanceId, session, utils);
    liveness.events.on('worker:create', ({ worker }: { worker: { workerId: string } }) => {
      liveness.workerIds.push(worker.workerId);
      liveness.recording = liveness.recording
        .then(() =>
          ctx.pool.query(
            `UPDATE webhooks.worker_instances SET worker_ids = $2 WHERE instance_id = $1`,
            [instanceId, liveness.workerIds],
          ),
        )
        .then(
          () => undefined,
          (error: unknown) => ctx.logger.warn({ err: error }, 'could not record a worker id'),
        );
    });
    liveness.timer = setInterval(() => {
      liveness.reap().catch((error: unknown) => ctx.logger.warn({ err: error }, 'reaping failed'));
    }, 15_000);
    liveness.timer.unref();
    return liveness;
  }

  /** Releases the jobs of every dispatcher process that is gone. */
  async reap(): Promise<void> {
    await this.recording;
    const { rows } = await this.ctx.pool.query<{ instance_id: string; worker_ids: string[] }>(
      `SELECT instance_id, worker_ids FROM webhooks.worker_instances WHERE instance_id <> $1`,
      [this.instanceId],
    );
    const live = new Set(this.workerIds);
    for (const row of rows) {
      const probe = await this.ctx.pool.connect();
      try {
        const { rows: got } = await probe.query<{ locked: boolean }>(
          `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`,
          [lockName(row.instance_id)],
        );
        if (got[0]?.locked) {
          if (row.worker_ids.length > 0) await this.utils.forceUnlockWorkers(row.worker_ids);
          await probe.query(`DELETE FROM webhooks.worker_instances WHERE instance_id = $1`, [
            row.instance_id,
          ]);
          await probe.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [
            lockName(row.instance_id),
          ]);
          this.ctx.logger.info(
            { instance: row.instance_id, workers: row.worker_ids.length },
            'released the jobs of a dispatcher process that is gone',
          );
        } else {
          for (const id of row.worker_ids) live.add(id);
        }
      } finally {
        probe.release();
      }
    }
    const { rows: stale } = await this.ctx.pool.query<{ locked_by: string }>(
      `SELECT DISTINCT locked_by FROM ${workerSchema}.jobs
       WHERE locked_by IS NOT NULL AND locked_at < now() - interval '1 minute'`,
    );
    const orphans = stale.map((r) => r.locked_by).filter((id) => !live.has(id));
    if (orphans.length > 0) await this.utils.forceUnlockWorkers(orphans);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.recording;
    await this.ctx.pool
      .query(`DELETE FROM webhooks.worker_instances WHERE instance_id = $1`, [this.instanceId])
      .catch(() => undefined);
    await this.utils.release();
    await this.session.end().catch(() => undefined);
  }
}

const lockName = (instanceId: string) => `tweeter-webhook-dispatcher:${instanceId}`;

/** graphile-worker's log lines through the service's pino logger. */
function workerLogger(logger: Logger): WorkerLogger {
  const child = logger.child({ component: 'graphile-worker' });
  const factory: LogFunctionFactory = () => (level, message, meta) => {
    // LogLevel is a const enum of these strings; graphile's info lines are chatty, hence debug.
    switch (level as string) {
      case 'error':
        child.error(meta ?? {}, message);
        break;
      case 'warning':
        child.warn(meta ?? {}, message);
        break;
      case 'info':
        child.debug(meta ?? {}, message);
        break;
      default:
        child.trace(meta ?? {}, message);
    }
  };
  return new GraphileLogger(factory);
}
