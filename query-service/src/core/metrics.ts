import { Counter, type Registry } from 'prom-client';

/** Request counts and latency come from the shared HTTP kit; these are the read side's own. */
export function createQueryMetrics(registry: Registry) {
  return {
    timelineSource: new Counter({
      name: 'query_timeline_pages_total',
      help:
        'Home timeline pages by where they came from: redis (head only), redis+postgres (head and ' +
        'tail), postgres (the Redis copy is not live or lost the user: answered from the tables)',
      labelNames: ['source'],
      registers: [registry],
    }),
    timelineFallback: new Counter({
      name: 'query_timeline_fallbacks_total',
      help: 'Timelines answered from PostgreSQL because Redis could not, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

export type QueryMetrics = ReturnType<typeof createQueryMetrics>;
