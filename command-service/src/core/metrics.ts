import { Counter, type Registry } from 'prom-client';

/** Request counts and latency come from the shared HTTP kit; these are the command side's own. */
export function createCommandMetrics(registry: Registry) {
  return {
    eventsAppended: new Counter({
      name: 'command_events_appended_total',
      help: 'Events the commands appended to the event store, by command',
      labelNames: ['command'],
      registers: [registry],
    }),
    appendConflicts: new Counter({
      name: 'command_append_conflicts_total',
      help: 'Appends refused because the stream moved on (optimistic concurrency), by command and stream category',
      labelNames: ['command', 'stream'],
      registers: [registry],
    }),
    appendRetries: new Counter({
      name: 'command_append_retries_total',
      help: 'Commands re-read and re-decided after a conflicting append, by command',
      labelNames: ['command'],
      registers: [registry],
    }),
    conflictsExhausted: new Counter({
      name: 'command_append_conflicts_exhausted_total',
      help: 'Commands answered 409 because every retry conflicted, by command',
      labelNames: ['command'],
      registers: [registry],
    }),
  };
}

export type CommandMetrics = ReturnType<typeof createCommandMetrics>;
