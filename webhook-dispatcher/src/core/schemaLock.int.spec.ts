import { describe, expect, it } from 'vitest';
import { createLogger, createPool, migrate } from '@tweeter/shared';
import { createTestDatabase } from '@tweeter/shared/testing';
import { migrateWorkerSchema } from './worker.ts';

// graphile-worker creates its tables and renames some of them a few migrations later; a kysely
// migrator introspecting the catalogue in that moment failed with `relation
// "webhook_worker.job_queues" does not exist`, and the service starting it died. Both now take the
// database's schema-change lock, so other services' migrations wait instead of failing.
describe('schema changes of several services on one fresh database', () => {
  it('never see one another half-done: migrators run while the job queue creates its schema', async () => {
    const logger = createLogger('schema-lock-test', 'silent');
    const failures: string[] = [];
    let migrations = 0;
    for (let round = 0; round < 10; round++) {
      const database = await createTestDatabase();
      const pool = createPool(database.url, { max: 12 });
      try {
        let done = false;
        const jobQueue = migrateWorkerSchema(pool, logger).finally(() => (done = true));
        const migrators = Array.from({ length: 8 }, async (_, i) => {
          do {
            await migrate(pool, `probe_${i}`, {}).then(
              () => migrations++,
              (error: unknown) => failures.push(String(error)),
            );
          } while (!done);
        });
        await Promise.all([jobQueue, ...migrators]);
      } finally {
        await pool.end();
        await database.drop();
      }
    }
    expect(failures).toEqual([]);
    expect(migrations).toBeGreaterThanOrEqual(80);
  });
});
