import type { Logger } from 'pino';
import { EventStoreDbEventStore } from './eventStoreDb/eventStoreDbEventStore.ts';
import { PostgresEventStore } from './postgres/postgresEventStore.ts';
import type { EventStore } from './port.ts';

export * from './port.ts';
export { PostgresEventStore } from './postgres/postgresEventStore.ts';
export { EventStoreDbEventStore } from './eventStoreDb/eventStoreDbEventStore.ts';

/** EventStoreDB when a connection string is configured, else the PostgreSQL event store. */
export async function connectEventStore(
  config: { DATABASE_URL: string; EVENTSTORE_CONNECTION_STRING?: string | undefined },
  logger?: Logger,
): Promise<EventStore> {
  if (config.EVENTSTORE_CONNECTION_STRING)
    return EventStoreDbEventStore.connect(config.EVENTSTORE_CONNECTION_STRING);
  return PostgresEventStore.connect({ url: config.DATABASE_URL, ...(logger ? { logger } : {}) });
}
