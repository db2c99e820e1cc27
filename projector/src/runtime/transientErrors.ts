import { isDependencyFailure, isEventStoreDbUnavailable } from '@tweeter/shared';

/**
 * Errors after which a projection waits and tries again, as opposed to handler errors, which stop
 * it: a dependency that is down or slow (PostgreSQL, Redis, NATS, EventStoreDB) says nothing about
 * the event.
 */
export function isTransient(error: unknown): boolean {
  if (isDependencyFailure(error)) return true;
  if (isEventStoreDbUnavailable(error)) return true;
  const e = error as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (!e) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    // nats.js: TIMEOUT, CONNECTION_CLOSED, DISCONNECT, CONNECTION_REFUSED, 503 no responders
    [
      'TIMEOUT',
      'CONNECTION_CLOSED',
      'CONNECTION_DRAINING',
      'DISCONNECT',
      'CONNECTION_REFUSED',
      '503',
    ].includes(code) ||
    (name === 'NatsError' && /timeout|no responders|closed|disconnect/i.test(message)) ||
    // ioredis / pg connection loss
    /Connection is closed|Stream isn't writeable|ECONNRESET|ECONNREFUSED|Connection terminated|terminating connection|LOADING/i.test(
      message,
    ) ||
    code === '40001' || // serialization failure
    code === '40P01' // deadlock: retry the batch
  );
}

/**
 * A transient error of the event store itself (EventStoreDB unreachable, restarting, changing
 * leader): the runner then gives its lock up while it waits, so that a standby that can reach the
 * store takes over; this process competes for the lock again after its back-off.
 */
export function isEventStoreOutage(error: unknown): boolean {
  return isEventStoreDbUnavailable(error);
}
