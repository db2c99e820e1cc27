import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Migration } from 'kysely';
import { createKysely, createPool, ensureDatabase, migrate } from './database.ts';

interface SecretsDatabase {
  service_secrets: { service: string; name: string; value: Buffer };
}

const migrations: Record<string, Migration> = {
  '2026-11-24T1300_create_service_secrets': {
    up: async (db: Kysely<unknown>) => {
      await sql`CREATE TABLE service_secrets (
        service text NOT NULL,
        name text NOT NULL,
        value bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (service, name)
      )`.execute(db);
    },
    down: async (db: Kysely<unknown>) => {
      await sql`DROP TABLE service_secrets`.execute(db);
    },
  },
};

/**
 * A server secret (HMAC key) of one service: `configured` when the operator set one; otherwise
 * 32 random bytes generated on first start and kept in PostgreSQL, so that every instance and
 * every restart agrees on it without configuration. Never logged.
 */
export async function loadServiceSecret(options: {
  databaseUrl: string;
  service: string;
  name: string;
  configured?: string | undefined;
}): Promise<Buffer> {
  if (options.configured) return Buffer.from(options.configured, 'utf8');
  await ensureDatabase(options.databaseUrl);
  const pool = createPool(options.databaseUrl, {
    max: 1,
    applicationName: `tweeter-${options.service}`,
  });
  const db = createKysely<SecretsDatabase>(pool);
  try {
    await migrate(pool, 'service_secrets', migrations);
    // Of several instances starting at once, the first insert wins and all read the same row.
    await db
      .insertInto('service_secrets')
      .values({ service: options.service, name: options.name, value: randomBytes(32) })
      .onConflict((oc) => oc.columns(['service', 'name']).doNothing())
      .execute();
    const row = await db
      .selectFrom('service_secrets')
      .select('value')
      .where('service', '=', options.service)
      .where('name', '=', options.name)
      .executeTakeFirstOrThrow();
    return row.value;
  } finally {
    await db.destroy();
  }
}
