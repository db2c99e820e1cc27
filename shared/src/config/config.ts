import { z } from 'zod';

/** Thrown when the environment holds a value the process cannot start with. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** TIMELINE_STREAM_LENGTH's default: the entries each home's stream keeps. */
export const defaultTimelineStreamLength = 200;

/** A TCP port variable with its default. */
export const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(1, 'must be 1–65535')
    .max(65535, 'must be 1–65535')
    .default(fallback);

const wholeNumber = (fallback: number, min = 0) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min)
    .default(fallback);

/** A duration in whole milliseconds (a service's own variable). */
export const milliseconds = (fallback: number, min = 0) =>
  z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int('must be a whole number')
    .min(min)
    .default(fallback);

/** An http(s) URL another service is reached at (a service's own variable). */
export const httpUrl = z.string().refine((value) => {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}, 'must be a URL starting with http:// or https://');

const url = (fallback: string, protocols: string[]) =>
  z
    .string()
    .default(fallback)
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );

/** Key and subject prefixes: letters, digits and a few separators, so they are safe in every name they end up in. */
const prefix = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(
      (v) => /^[A-Za-z0-9_:.-]*$/.test(v),
      'may hold only letters, digits, "_", ":", "." and "-"',
    );

/** Every variable of the contract (docs/contract.md, README's Configuration), with working local defaults. */
export const environmentSchema = z.object({
  DATABASE_URL: url('postgres://postgres@127.0.0.1:5432/tweeter', ['postgres:', 'postgresql:']),
  REDIS_URL: url('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  REDIS_PREFIX: prefix('tweeter:'),
  /** `host:port,…` of Redis Cluster nodes (any of them: the rest is discovered); unset: REDIS_URL. */
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((v) =>
      v === undefined || v.trim() === ''
        ? undefined
        : v
            .split(',')
            .map((node) => node.trim())
            .filter((node) => node !== ''),
    )
    .refine(
      (nodes) =>
        nodes === undefined ||
        nodes.every((node) => /^[\w.-]+:\d{1,5}$|^\[[\da-f:]+\]:\d{1,5}$/i.test(node)),
      { message: 'must be host:port,host:port,…' },
    ),
  /**
   * One NATS server, or a cluster's servers comma-separated (any of them will do: the client
   * learns the rest); each entry a nats://, tls://, ws:// or wss:// URL. Kept as the trimmed list.
   */
  NATS_URL: z
    .string()
    .default('nats://127.0.0.1:4222')
    .transform((v) =>
      v
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '')
        .join(','),
    )
    .refine(
      (v) =>
        v !== '' &&
        v.split(',').every((entry) => {
          try {
            return ['nats:', 'tls:', 'ws:', 'wss:'].includes(new URL(entry).protocol);
          } catch {
            return false;
          }
        }),
      'must be a URL starting with nats:// or tls:// or ws:// or wss://, or a comma-separated list of them',
    ),
  /**
   * Replicas of the integration-events stream on a JetStream cluster (3 there; 1 on a single
   * server). Unset: a new stream gets 1 and an existing one keeps its count; set: the projector
   * creates the stream with it and changes an existing stream's count to it.
   */
  NATS_STREAM_REPLICAS: z.coerce
    .number({ error: 'must be a number of replicas, 1–5' })
    .int('must be a whole number')
    .min(1, 'must be 1–5')
    .max(5, 'must be 1–5')
    .optional(),
  NATS_PREFIX: prefix(''),
  EVENTSTORE_CONNECTION_STRING: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    // The client (@eventstore/db-client 6) parses only these two schemes and throws at start on
    // anything else, kurrentdb:// included (that needs the KurrentDB client).
    .refine((v) => v === undefined || !/^kurrentdb(\+discover)?:\/\//i.test(v), {
      message:
        'kurrentdb:// is not understood by the EventStoreDB client this product uses: write esdb:// (or esdb+discover:// for a cluster) with the same hosts and options',
    })
    .refine((v) => v === undefined || /^kurrentdb/i.test(v) || /^esdb(\+discover)?:\/\//.test(v), {
      message: 'must start with esdb:// or esdb+discover://',
    }),
  COMMAND_PORT: port(3001),
  QUERY_PORT: port(3002),
  PROJECTOR_PORT: port(3003),
  DISPATCHER_PORT: port(3004),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT_WRITES_PER_MINUTE: wholeNumber(300),
  /**
   * Authors with more followers are merged into timelines at read time instead of fanned out.
   * 1,000: each home a post reaches costs its Redis master ~20–25 µs (the insert at the head of
   * a full 800-entry listpack, the trim, the stamp), so on a small machine a post to 1,000 homes
   * lands within 40–110 ms at p99 on one Redis, and one to 5,000 takes 200–500 ms (`npm run
   * bench:projector`, byFollowers), while a celebrity costs a reader one range read of that
   * author's list (docs/projections.md, Celebrities).
   */
  FANOUT_MAX_FOLLOWERS: wholeNumber(1_000),
  /**
   * Fan-out partitions of a new timelines copy (fixed for the copy until it is rebuilt): homes are
   * split by owner and every projector process applies a share of them. 0: the process running
   * the timelines projection writes every home itself.
   */
  TIMELINES_PARTITIONS: wholeNumber(4),
  /**
   * Entries each home's stream keeps for the streaming API (about: Redis trims whole nodes), so a
   * client that reconnects within that many changes of its home misses nothing; 0: no streams.
   * 200 entries are about 6 KB per home that changed lately.
   */
  TIMELINE_STREAM_LENGTH: wholeNumber(defaultTimelineStreamLength),
  CONSISTENCY_WAIT_MS: wholeNumber(2000),
});

export type Environment = z.infer<typeof environmentSchema>;
export type Config = Readonly<Environment>;

/**
 * Reads the configuration from the environment once, fails fast with every bad value named,
 * and freezes the result so nothing changes it later. Services with variables of their own pass
 * an extended schema.
 */
export function loadConfig(env?: NodeJS.ProcessEnv): Config;
export function loadConfig<S extends z.ZodObject>(
  env: NodeJS.ProcessEnv,
  schema: S,
): Readonly<z.infer<S>>;
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  schema: z.ZodObject = environmentSchema,
): unknown {
  // Empty strings count as unset, the way shells and compose files usually mean them.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const value = present[name];
      return `  ${name}: ${issue.message}${value === undefined ? '' : ` (got ${JSON.stringify(redactUrl(value))})`}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

/** Hides a password inside a connection URL before it is shown anywhere. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return value;
  }
}
