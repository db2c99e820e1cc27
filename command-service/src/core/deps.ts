import type { EventStore, Logger, RedisClient } from '@tweeter/shared';
import type { CommandConfig } from '../config.ts';

/** Everything the command service depends on, passed in so tests can run it in-process. */
export interface CommandDependencies {
  eventStore: EventStore;
  redis: RedisClient;
  /** The current time; every timestamp the service writes comes from here. */
  clock: () => Date;
  /** New ids (UUIDv7) for users and tweets. */
  ids: () => string;
  config: Pick<
    CommandConfig,
    'RATE_LIMIT_WRITES_PER_MINUTE' | 'RATE_LIMIT_SIGNUPS_PER_HOUR' | 'TRUST_PROXY'
  >;
  logger: Logger;
  /** Server secret keyed sign-up tokens are derived from (see tokenSecret.ts). */
  tokenSecret: Buffer;
  /** How long an orphaned username reservation is presumed in flight (default 10 s). */
  usernameGraceMs?: number;
  /** Attempts after a conflicting append before answering 409 (default 5). */
  maxConflictRetries?: number;
}
