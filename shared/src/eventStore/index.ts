import type { Logger } from 'pino';
import { EventStoreDbEventStore } from './eventStoreDb/eventStoreDbEventStore.ts';
import { PostgresEventStore } from './postgres/postgresEventStore.ts';
import type { EventStore } from './port.ts';

export * from './port.ts';
export { PostgresEventStore } from './postgres/postgresEventStore.ts';
export {
  EventStoreDbEventStore,
  nominalEventRecordBytes,
  type EventStoreDbConnectOptions,
} from './eventStoreDb/eventStoreDbEventStore.ts';
export {
  classifyEventStoreDbError,
  isEventStoreDbUnavailable,
  type EventStoreDbErrorKind,
} from './eventStoreDb/errors.ts';

/**
 * EventStoreDB when a connection string is configured, else the PostgreSQL event store (which
 * always checks the database at connect). `verify` makes the EventStoreDB store check at once that
 * the server answers (the admin CLI); services leave it off, start while the store is down and
 * answer 503 until it is back.
 */
export async function connectEventStore(
  config: { DATABASE_URL: string; EVENTSTORE_CONNECTION_STRING?: string | undefined },
  logger?: Logger,
  options: { verify?: boolean; timeoutMs?: number } = {},
): Promise<EventStore> {
  if (config.EVENTSTORE_CONNECTION_STRING)
    return EventStoreDbEventStore.connect(config.EVENTSTORE_CONNECTION_STRING, options);
  return PostgresEventStore.connect({ url: config.DATABASE_URL, ...(logger ? { logger } : {}) });
}
