import type { Kysely } from 'kysely';
import { pino, type Logger } from 'pino';
import {
  connectEventStore,
  createKysely,
  createPool,
  loadConfig,
  readActiveCopies,
  redactUrl,
  type Config,
  type EventStore,
  type Pool,
} from '@tweeter/shared';
import { createProjection } from '../projections.ts';
import type { Projection, ProjectionName } from '../runtime/projection.ts';
import { AdminError, describeError } from './errors.ts';

/**
 * What every admin command works with: the services' configuration (the same environment as the
 * projector), the database pool, the event store and the active-copy registry.
 */
export interface AdminContext {
  config: Config;
  pool: Pool;
  db: Kysely<unknown>;
  eventStore: EventStore;
  logger: Logger;
  /** Where the running projector answers `/status` (PROJECTOR_URL, else localhost:PROJECTOR_PORT). */
  projectorUrl: string;
  /** The copy a projection's readers and projector use now. */
  activeCopy(name: ProjectionName): Promise<string>;
  /** A projection instance writing into `copy` (closed by `close()`). */
  projection(name: ProjectionName, copy: string): Projection;
  close(): Promise<void>;
}

export async function openContext(env: NodeJS.ProcessEnv = process.env): Promise<AdminContext> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    throw new AdminError((error as Error).message.replace(/\n\s*/g, ' '), 2);
  }
  // The projection classes log warnings of their own; an operator's terminal wants only ours.
  const logger = pino({ level: env.ADMIN_LOG_LEVEL ?? 'silent' });
  const pool = createPool(config.DATABASE_URL, { max: 6, applicationName: 'tweeter-admin' });
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new AdminError(
      `cannot reach the database at ${redactUrl(config.DATABASE_URL)}: ${describeError(error)}`,
    );
  }
  let eventStore: EventStore;
  try {
    eventStore = await connectEventStore(config, logger);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new AdminError(`cannot reach the event store: ${describeError(error)}`);
  }
  const db = createKysely(pool);
  const opened: Projection[] = [];
  return {
    config,
    pool,
    db,
    eventStore,
    logger,
    projectorUrl: env.PROJECTOR_URL ?? `http://127.0.0.1:${config.PROJECTOR_PORT}`,
    async activeCopy(name) {
      const copies = await readActiveCopies(db);
      return name === 'integration-events' ? '' : copies[name];
    },
    projection(name, copy) {
      const projection = createProjection(name, copy, { config, pool, logger });
      opened.push(projection);
      return projection;
    },
    async close() {
      await Promise.all(opened.map((p) => p.close().catch(() => undefined)));
      await eventStore.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
