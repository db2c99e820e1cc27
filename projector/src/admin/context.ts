import type { Kysely } from 'kysely';
import { pino, type Logger } from 'pino';
import {
  connectEventStore,
  createKysely,
  createPool,
  readActiveCopies,
  redactUrl,
  type EventStore,
  type Pool,
} from '@tweeter/shared';
import { loadProjectorConfig, type ProjectorConfig } from '../config.ts';
import {
  activeCopyOf,
  createProjection,
  declarationOf,
  defaultCopies,
  type CopiedProjectionName,
  type ProjectionName,
} from '../registry.ts';
import type { CopiedProjection, Projection } from '../runtime/projection.ts';
import { AdminError, describeError } from './errors.ts';

/**
 * What every admin command works with: the services' configuration (the same environment as the
 * projector), the database pool, the event store and the active-copy registry.
 */
export interface AdminContext {
  config: ProjectorConfig;
  pool: Pool;
  db: Kysely<unknown>;
  eventStore: EventStore;
  logger: Logger;
  /** Where the running projector answers `/status` (PROJECTOR_URL, else localhost:PROJECTOR_PORT). */
  projectorUrl: string;
  /** The copy a projection's readers and projector use now. */
  activeCopy(name: ProjectionName): Promise<string>;
  /** A projection instance writing into `copy` (closed by `close()`). */
  projection(name: CopiedProjectionName, copy: string): CopiedProjection;
  projection(name: ProjectionName, copy: string): Projection;
  close(): Promise<void>;
}

export async function openContext(env: NodeJS.ProcessEnv = process.env): Promise<AdminContext> {
  let config: ProjectorConfig;
  try {
    config = loadProjectorConfig(env);
  } catch (error) {
    throw new AdminError((error as Error).message.replace(/\n\s*/g, ' '), 2);
  }
  // The projection classes log warnings of their own; an operator's terminal wants only ours.
  const logger = pino({ level: config.ADMIN_LOG_LEVEL });
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
    // Verified at once (a bounded read with a timeout): the client alone connects lazily.
    eventStore = await connectEventStore(config, logger, { verify: true, timeoutMs: 5000 });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new AdminError(`cannot reach the event store: ${describeError(error)}`);
  }
  const db = createKysely(pool);
  const opened: Projection[] = [];
  function projection(name: CopiedProjectionName, copy: string): CopiedProjection;
  function projection(name: ProjectionName, copy: string): Projection;
  function projection(name: ProjectionName, copy: string): Projection {
    const created = createProjection(name, copy, { config, pool, logger, inline: true });
    opened.push(created);
    return created;
  }
  return {
    config,
    pool,
    db,
    eventStore,
    logger,
    projectorUrl: config.PROJECTOR_URL ?? `http://127.0.0.1:${config.PROJECTOR_PORT}`,
    async activeCopy(name) {
      return activeCopyOf(declarationOf(name), await readActiveCopies(db, defaultCopies));
    },
    projection,
    async close() {
      await Promise.all(opened.map((p) => p.close().catch(() => undefined)));
      await eventStore.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
