import { randomUUID } from 'node:crypto';
import { createKysely, createLogger, createPool, migrate, type Pool } from '@tweeter/shared';
import { createTestDatabase, type TestDatabase } from '@tweeter/shared/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleDrains, scheduleStrandedDrains, workerSchema } from './jobs.ts';
import { dispatcherMigrations } from './migrations.ts';
import type { DispatcherDatabase } from './tables.ts';
import { migrateWorkerSchema } from './worker.ts';

/**
 * Scheduling of drain jobs against the real graphile-worker schema, with no worker running: the
 * tests play the worker's part by hand, to hit exact interleavings.
 */
let database: TestDatabase;
let pool: Pool;
let db: ReturnType<typeof createKysely<DispatcherDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
  db = createKysely<DispatcherDatabase>(pool);
  await migrate(pool, 'webhook_dispatcher', dispatcherMigrations);
  await migrateWorkerSchema(pool, createLogger('jobs-test', 'silent'));
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const jobsOf = async (subscriptionId: string) =>
  (
    await pool.query<{ key: string | null; locked: boolean }>(
      `SELECT key, locked_at IS NOT NULL AS locked FROM ${workerSchema}.jobs
       WHERE queue_name = $1 ORDER BY id`,
      [`sub:${subscriptionId}`],
    )
  ).rows;

describe('scheduleDrains', () => {
  it('adds a successor when a worker locks the job while it is being scheduled', async () => {
    const subscription = randomUUID();
    await scheduleDrains(db, [subscription], { kind: 'soon' });
    expect(await jobsOf(subscription)).toEqual([{ key: `sub:${subscription}`, locked: false }]);

    // A worker takes the job (its locking transaction is still open) ...
    const worker = new pg.Client({ connectionString: database.url });
    await worker.connect();
    await worker.query('BEGIN');
    await worker.query(
      `UPDATE ${workerSchema}._private_jobs SET locked_at = now(), locked_by = 'worker-1'
       WHERE key = $1`,
      [`sub:${subscription}`],
    );
    // ... while the intake schedules the drain for a delivery it is adding: add_job waits for the
    // worker's row lock, then finds the job locked.
    const scheduling = scheduleDrains(db, [subscription], { kind: 'soon' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await worker.query('COMMIT');
    await worker.end();
    await scheduling;

    // The running job keeps running without its key; a successor waits to pick up the delivery.
    expect(await jobsOf(subscription)).toEqual([
      { key: null, locked: true },
      { key: `sub:${subscription}`, locked: false },
    ]);
  });
});

describe('scheduleStrandedDrains', () => {
  it('gives unfinished deliveries without a drain job one, and leaves the rest alone', async () => {
    const owner = randomUUID();
    const subscription = async (deleted = false) => {
      const id = randomUUID();
      await pool.query(
        `INSERT INTO webhooks.subscriptions (id, owner_id, url, events, secret, created_at, deleted_at)
         VALUES ($1, $2, 'https://example.com/hook', '{tweet.posted}', 'whsec_x', now(), $3)`,
        [id, owner, deleted ? new Date() : null],
      );
      return id;
    };
    const delivery = async (subscriptionId: string, status: string, ageSeconds: number) => {
      const eventId = randomUUID();
      await pool.query(
        `INSERT INTO webhooks.events (id, seq, type, occurred_at, data)
         VALUES ($1, 1, 'tweet.posted', now(), '{}')`,
        [eventId],
      );
      await pool.query(
        `INSERT INTO webhooks.deliveries (id, subscription_id, event_id, event_seq, status, created_at)
         VALUES ($1, $2, $3, 1, $4, now() - make_interval(secs => $5))`,
        [randomUUID(), subscriptionId, eventId, status, ageSeconds],
      );
    };
    const stranded = await subscription();
    await delivery(stranded, 'pending', 60);
    const retrying = await subscription();
    await delivery(retrying, 'failed', 60);
    const scheduled = await subscription();
    await delivery(scheduled, 'pending', 60);
    await scheduleDrains(db, [scheduled], { kind: 'soon' });
    const fresh = await subscription(); // its intake transaction may still be scheduling
    await delivery(fresh, 'pending', 0);
    const finished = await subscription();
    await delivery(finished, 'succeeded', 60);
    const deleted = await subscription(true);
    await delivery(deleted, 'pending', 60);

    const found = await scheduleStrandedDrains(db);
    expect(found.sort()).toEqual([stranded, retrying].sort());
    for (const id of [stranded, retrying, scheduled])
      expect(await jobsOf(id)).toEqual([{ key: `sub:${id}`, locked: false }]);
    for (const id of [fresh, finished, deleted]) expect(await jobsOf(id)).toEqual([]);
    expect(await scheduleStrandedDrains(db)).toEqual([]);
  });
});
