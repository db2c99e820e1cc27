import { afterAll, beforeAll } from 'vitest';
import { PostgresEventStore } from '../eventStore/postgres/postgresEventStore.ts';
import { createTestDatabase, type TestDatabase } from './resources.ts';

/**
 * A value a fixture sets in its beforeAll: `get()` throws when read earlier (at the top level of
 * a test file, before the hooks ran), naming the fixture.
 */
export class FixtureSlot<T> {
  private value: T | undefined;

  constructor(private readonly what: string) {}

  set(value: T): T {
    this.value = value;
    return value;
  }

  get(): T {
    if (this.value === undefined) throw new Error(`${this.what}: read before its beforeAll ran`);
    return this.value;
  }

  /** The value if the beforeAll got that far (for teardown). */
  peek(): T | undefined {
    return this.value;
  }
}

export interface TestEventStoreFixture {
  /** The file's own database (dropped after the file). */
  readonly database: TestDatabase;
  /** A PostgreSQL event store on `database` (closed after the file). */
  readonly store: PostgresEventStore;
}

/**
 * A test file's own database with a PostgreSQL event store on it, made before the file's tests
 * and closed and dropped after them. `pollIntervalMs` is the store's subscription poll interval.
 */
export function useTestEventStore(
  options: { pollIntervalMs?: number } = {},
): TestEventStoreFixture {
  const database = new FixtureSlot<TestDatabase>('useTestEventStore database');
  const store = new FixtureSlot<PostgresEventStore>('useTestEventStore store');
  beforeAll(async () => {
    const { url } = database.set(await createTestDatabase());
    store.set(await PostgresEventStore.connect({ url, ...options }));
  });
  afterAll(async () => {
    await store.peek()?.close();
    await database.peek()?.drop();
  });
  return {
    get database() {
      return database.get();
    },
    get store() {
      return store.get();
    },
  };
}
