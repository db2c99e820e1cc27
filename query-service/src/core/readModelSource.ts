import {
  createKysely,
  isDependencyFailure,
  Problem,
  type Logger,
  type Pool,
} from '@tweeter/shared';
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createReadModelDb, ReplicaError, type ReadModelDb } from '../readModel/database.ts';
import { ActiveCopiesCache } from './activeCopies.ts';

/** One PostgreSQL server the read model is read from, with its own view of the copy registry. */
export interface ReadModelServer {
  name: 'primary' | 'replica';
  db: ReadModelDb;
  /** The registry as this server has it: a page, its checkpoint and its copy come from one server. */
  copies: ActiveCopiesCache;
}

/** Whether reads go to the replica, or to the primary and why. */
export type ReplicaState = 'replica' | 'lagging' | 'down';

/** Why a request was read from the primary although a replica is configured. */
export type FallbackReason =
  /** The replica did not answer its health check (or a request's connection to it failed). */
  | 'down'
  /** It lags more than READ_REPLICA_MAX_LAG_MS behind. */
  | 'lagging'
  /** A statement failed on it (e.g. a recovery conflict, 40001): that request was retried. */
  | 'error'
  /** It had not replayed the request's X-Min-Position within CONSISTENCY_WAIT_MS. */
  | 'behind';

const states: readonly ReplicaState[] = ['replica', 'lagging', 'down'];

/**
 * The replica's replay lag in ms: none when it has replayed all the WAL it received (an idle
 * primary sends nothing, so an old last-replay time alone is no lag), else the time since the last
 * transaction it replayed committed on the primary (or since it started, before its first).
 */
const lagQuery = `SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0
  WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
  ELSE greatest(0, extract(epoch FROM now() - coalesce(pg_last_xact_replay_timestamp(), pg_postmaster_start_time())) * 1000)
END::float8 AS lag_ms`;

/** Connection-level failures: the replica is unreachable, shutting down, or lacks the database. */
const connectionFailure = (error: ReplicaError): boolean =>
  isDependencyFailure(error.cause) || ['3D000', '57P04'].includes(error.code ?? '');

export interface ReadModelSourceOptions {
  primary: Pool;
  /** The read replica (READ_DATABASE_URL); none: every read goes to the primary. */
  replica?: Pool | undefined;
  /** READ_REPLICA_MAX_LAG_MS. */
  maxLagMs: number;
  /** ACTIVE_COPY_CACHE_MS. */
  copiesTtlMs: number;
  logger: Logger;
  registry: Registry;
  now: () => number;
  /** How long a health check's answer is used (1 s). */
  checkMs?: number;
  /** A check that sees the bound passed confirms it once after this long (a burst just arrived). */
  confirmMs?: number;
  /** A health check without an answer after this long counts as the replica being down. */
  checkTimeoutMs?: number;
}

/**
 * Where the read model is read from. Without a replica: the primary. With one: the replica while
 * it is healthy — it answers, and lags at most `maxLagMs` — else the primary; its health is
 * checked at most once per `checkMs`, off the request path (only the very first request waits),
 * and every change of state is logged once and shown by `query_read_replica_state`. A request
 * whose read fails on the replica, or that the replica cannot serve in time (X-Min-Position), is
 * run again on the primary: a replica's trouble never becomes a 5xx.
 *
 * Read-your-writes stays exact because a request reads its copy registry, the copy's checkpoint
 * and its page from the same server (see ConsistencyGate and docs/read-replica.md).
 */
export class ReadModelSource {
  readonly primary: ReadModelServer;
  readonly replica: ReadModelServer | undefined;
  private readonly replicaPool: Pool | undefined;
  private state: ReplicaState | undefined;
  private checkedAt = -Infinity;
  private checking: Promise<void> | undefined;
  private readonly maxLagMs: number;
  private readonly checkMs: number;
  private readonly confirmMs: number;
  private readonly checkTimeoutMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly fallbacks: Counter<'reason'> | undefined;
  private readonly stateGauge: Gauge<'state'> | undefined;
  private readonly lagGauge: Gauge | undefined;

  constructor(options: ReadModelSourceOptions) {
    this.maxLagMs = options.maxLagMs;
    this.checkMs = options.checkMs ?? 1000;
    this.confirmMs = options.confirmMs ?? 100;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 2000;
    this.logger = options.logger;
    this.now = options.now;
    const server = (name: ReadModelServer['name'], db: ReadModelDb, registry: Kysely<unknown>) => ({
      name,
      db,
      copies: new ActiveCopiesCache(registry, options.copiesTtlMs, options.logger, options.now),
    });
    this.primary = server(
      'primary',
      createReadModelDb(options.primary),
      createKysely(options.primary),
    );
    if (!options.replica) return;
    this.replicaPool = options.replica;
    const db = createReadModelDb(options.replica, { replica: true });
    // The registry through the same driver, so its errors are ReplicaErrors too.
    this.replica = server('replica', db, db as unknown as Kysely<unknown>);
    this.fallbacks = new Counter({
      name: 'query_read_replica_fallback_total',
      help:
        'Requests read from the primary although a read replica is configured, by reason: down ' +
        '(unreachable), lagging (beyond READ_REPLICA_MAX_LAG_MS), error (a statement failed on ' +
        'the replica; retried), behind (X-Min-Position not replayed in time; retried)',
      labelNames: ['reason'],
      registers: [options.registry],
    });
    this.stateGauge = new Gauge({
      name: 'query_read_replica_state',
      help: 'Where reads go: 1 for the current state (replica, or lagging/down: the primary)',
      labelNames: ['state'],
      registers: [options.registry],
    });
    this.lagGauge = new Gauge({
      name: 'query_read_replica_lag_seconds',
      help: 'The read replica’s replay lag at its last health check',
      registers: [options.registry],
    });
  }

  /**
   * Runs `read` on the replica while it is healthy, else on the primary; a read that fails on the
   * replica (a ReplicaError, or a consistency timeout there) is run again on the primary.
   */
  async read<T>(read: (server: ReadModelServer) => Promise<T>): Promise<T> {
    const replica = this.replica;
    if (!replica) return read(this.primary);
    const state = await this.currentState();
    if (state !== 'replica') {
      this.fallbacks?.inc({ reason: state });
      return read(this.primary);
    }
    try {
      return await read(replica);
    } catch (error) {
      const reason = failureReason(error);
      if (reason === null) throw error;
      this.fallbacks?.inc({ reason });
      if (error instanceof ReplicaError && connectionFailure(error)) this.markDown(error);
      return read(this.primary);
    }
  }

  /** Where reads go now (checking the replica when the last check is older than `checkMs`). */
  currentState(): ReplicaState | Promise<ReplicaState> {
    if (!this.replicaPool) return 'down';
    if (this.now() - this.checkedAt >= this.checkMs)
      this.checking ??= this.check().finally(() => (this.checking = undefined));
    return this.state ?? this.checking!.then(() => this.state ?? 'down');
  }

  /** Waits for a running health check (tests). */
  async settled(): Promise<void> {
    await this.checking;
  }

  private async check(): Promise<void> {
    let next: ReplicaState;
    let lagMs: number | undefined;
    let failure: unknown;
    try {
      lagMs = await this.lag();
      if (lagMs > this.maxLagMs) {
        // A burst that arrived a moment ago after a quiet spell looks like lag until it is
        // replayed: only lag that is still there a moment later counts.
        await new Promise((resolve) => setTimeout(resolve, this.confirmMs));
        lagMs = await this.lag();
      }
      next = lagMs > this.maxLagMs ? 'lagging' : 'replica';
      this.lagGauge?.set(lagMs / 1000);
    } catch (error) {
      next = 'down';
      failure = error;
    }
    this.checkedAt = this.now();
    this.enter(next, { lagMs, failure });
  }

  private async lag(): Promise<number> {
    const pool = this.replicaPool!;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        pool.query<{ lag_ms: number }>(lagQuery),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.checkTimeoutMs} ms`)),
            this.checkTimeoutMs,
          );
        }),
      ]);
      return result.rows[0]!.lag_ms;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A request found the replica unreachable: reads go to the primary until the next check. */
  private markDown(error: ReplicaError): void {
    this.checkedAt = this.now();
    this.enter('down', { failure: error.cause });
  }

  private enter(next: ReplicaState, why: { lagMs?: number | undefined; failure?: unknown }) {
    const previous = this.state;
    this.state = next;
    for (const s of states) this.stateGauge?.set({ state: s }, s === next ? 1 : 0);
    if (previous === next) return;
    const lag = why.lagMs === undefined ? {} : { lagMs: Math.round(why.lagMs) };
    switch (next) {
      case 'replica':
        this.logger.info(
          lag,
          previous === undefined
            ? 'reading the read model from the read replica'
            : `read replica ${previous === 'down' ? 'reachable' : 'caught up'} again: reading the read model from it`,
        );
        return;
      case 'lagging':
        this.logger.warn(
          { ...lag, maxLagMs: this.maxLagMs },
          `read replica lags more than READ_REPLICA_MAX_LAG_MS (${this.maxLagMs} ms) behind: reading the read model from the primary`,
        );
        return;
      case 'down': {
        const err = why.failure as { message?: string; code?: string } | undefined;
        this.logger.warn(
          { error: err?.message, code: err?.code },
          'read replica unreachable: reading the read model from the primary',
        );
        return;
      }
      default: {
        const never: never = next;
        throw new Error(`unknown state ${String(never)}`);
      }
    }
  }
}

/** Why a failed read on the replica is retried on the primary; null: it is not the replica's doing. */
function failureReason(error: unknown): FallbackReason | null {
  if (error instanceof ReplicaError) return connectionFailure(error) ? 'down' : 'error';
  if (error instanceof Problem && error.type === 'consistency-timeout') return 'behind';
  return null;
}
