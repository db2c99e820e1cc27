import { createTestDatabase, testRedisPrefix, type TestDatabase } from '@tweeter/shared/testing';
import { afterAll, beforeAll } from 'vitest';
import {
  apiClient,
  startCommandService,
  type ApiResponse,
  type CommandServiceUnderTest,
} from './commandServiceUnderTest.ts';

type StartOptions = Parameters<typeof startCommandService>[0];

export interface CommandServiceFixture {
  /** The file's own database (dropped after the file). */
  readonly database: TestDatabase;
  /** The service started for the file, on `database` and `redisPrefix`. */
  readonly service: CommandServiceUnderTest;
  readonly redisPrefix: string;
  /** Calls `service`'s API (see apiClient). */
  call: ReturnType<typeof apiClient>;
}

/**
 * The setup of a command-service integration test file: a database of its own, a Redis prefix of
 * its own and the service started on them before the file's tests, closed and dropped after them.
 * Options are startCommandService's (other than the database and prefix).
 */
export function useCommandService(
  options: Omit<StartOptions, 'databaseUrl' | 'redisPrefix'> = {},
): CommandServiceFixture {
  const redisPrefix = testRedisPrefix();
  let database: TestDatabase | undefined;
  let service: CommandServiceUnderTest | undefined;
  let client: ReturnType<typeof apiClient> | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useCommandService: used before beforeAll ran');
    return value;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startCommandService({ ...options, databaseUrl: database.url, redisPrefix });
    client = apiClient(service.baseUrl);
  });
  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  return {
    get database() {
      return started(database);
    },
    get service() {
      return started(service);
    },
    redisPrefix,
    call: (...args): Promise<ApiResponse> => started(client)(...args),
  };
}
