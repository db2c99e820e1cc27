import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDatabasePrefix, uniqueTag } from '../testing/index.ts';
import { createPool, ensureDatabase, migrate } from './database.ts';

describe('database helpers', () => {
  const name = `${testDatabasePrefix()}${uniqueTag()}`;
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  afterAll(async () => {
    const admin = new pg.Client({
      connectionString: 'postgres://postgres@127.0.0.1:5432/postgres',
    });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('creates a missing database, also when several processes race to do it', async () => {
    await Promise.all(Array.from({ length: 4 }, () => ensureDatabase(url)));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    expect(
      (await client.query<{ current_database: string }>('SELECT current_database()')).rows[0]!
        .current_database,
    ).toBe(name);
    await client.end();
  });

  it('applies migrations once per component, also when started concurrently', async () => {
    const database = await createTestDatabase();
    const pools = Array.from({ length: 3 }, () => createPool(database.url));
    try {
      let runs = 0;
      const migrations = {
        '0001_table': {
          up: async (db: Kysely<unknown>) => {
            runs++;
            await sql`CREATE TABLE widgets (id int PRIMARY KEY)`.execute(db);
          },
        },
      };
      await Promise.all(pools.map((pool) => migrate(pool, 'widgets', migrations)));
      expect(runs).toBe(1);
      const { rows } = await pools[0]!.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM widgets_migration',
      );
      expect(rows[0]!.n).toBe(1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await database.drop();
    }
  });
});
