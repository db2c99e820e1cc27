import { Counter, Gauge, type Registry } from 'prom-client';

export const runnerStates = [
  'starting',
  'standby',
  'running',
  'waiting',
  'failed',
  'stopped',
] as const;
export type RunnerState = (typeof runnerStates)[number];

/** The projector's per-projection metrics (label `projection`). */
export class ProjectorMetrics {
  readonly checkpoint: Gauge<'projection' | 'copy' | 'position'>;
  readonly head: Gauge<'position'>;
  readonly lagEvents: Gauge<'projection'>;
  readonly lagSeconds: Gauge<'projection'>;
  readonly eventsPerSecond: Gauge<'projection'>;
  readonly applied: Counter<'projection'>;
  readonly errors: Counter<'projection' | 'kind'>;
  readonly state: Gauge<'projection' | 'state'>;
  readonly partitionLagEvents: Gauge<'projection' | 'partition'>;
  readonly partitionLagSeconds: Gauge<'projection' | 'partition'>;
  readonly fanoutEntries: Counter<'projection'>;

  constructor(registry: Registry) {
    const registers = [registry];
    // Positions are opaque strings, so they travel as a label of an info-style gauge (value 1);
    // the series is reset on every change so that only the current position is exported.
    this.checkpoint = new Gauge({
      name: 'projector_checkpoint_info',
      help: 'The checkpoint of each projection (label position; value 1)',
      labelNames: ['projection', 'copy', 'position'],
      registers,
    });
    this.head = new Gauge({
      name: 'projector_head_info',
      help: 'The head of the event log (label position; value 1)',
      labelNames: ['position'],
      registers,
    });
    this.lagEvents = new Gauge({
      name: 'projector_lag_events',
      help: 'Events in the log after the projection checkpoint (counted up to 1,000,000)',
      labelNames: ['projection'],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'projector_lag_seconds',
      help: 'Age of the oldest event the projection has not applied yet (0 when caught up)',
      labelNames: ['projection'],
      registers,
    });
    this.eventsPerSecond = new Gauge({
      name: 'projector_events_per_second',
      help: 'Events applied per second over the last few seconds',
      labelNames: ['projection'],
      registers,
    });
    this.applied = new Counter({
      name: 'projector_events_applied_total',
      help: 'Events applied (internal events passed over included)',
      labelNames: ['projection'],
      registers,
    });
    this.errors = new Counter({
      name: 'projector_errors_total',
      help: 'Errors by kind: handler (the projection stopped) or transient (it waits and retries)',
      labelNames: ['projection', 'kind'],
      registers,
    });
    this.state = new Gauge({
      name: 'projector_state',
      help: 'The state of each projection runner (1 for the current state)',
      labelNames: ['projection', 'state'],
      registers,
    });
    this.partitionLagEvents = new Gauge({
      name: 'projector_partition_lag_events',
      help: 'Events after the checkpoint of each fan-out partition this process holds (estimated)',
      labelNames: ['projection', 'partition'],
      registers,
    });
    this.partitionLagSeconds = new Gauge({
      name: 'projector_partition_lag_seconds',
      help: 'Age of the oldest event a fan-out partition this process holds has not applied yet',
      labelNames: ['projection', 'partition'],
      registers,
    });
    this.fanoutEntries = new Counter({
      name: 'projector_fanout_entries_total',
      help: 'Tweets written into home timelines by fan-out (one per tweet and follower home)',
      labelNames: ['projection'],
      registers,
    });
  }

  setState(projection: string, state: RunnerState): void {
    for (const s of runnerStates) this.state.set({ projection, state: s }, s === state ? 1 : 0);
  }

  private readonly positions = new Map<string, { copy: string; position: string }>();

  setCheckpoint(projection: string, copy: string, position: string | null): void {
    const previous = this.positions.get(projection);
    if (previous?.copy === copy && previous.position === (position ?? '')) return;
    if (previous) this.checkpoint.remove({ projection, ...previous });
    this.positions.set(projection, { copy, position: position ?? '' });
    this.checkpoint.set({ projection, copy, position: position ?? '' }, 1);
  }

  private headPosition: string | undefined;

  setHead(position: string | null): void {
    if (this.headPosition === (position ?? '')) return;
    if (this.headPosition !== undefined) this.head.remove({ position: this.headPosition });
    this.headPosition = position ?? '';
    this.head.set({ position: this.headPosition }, 1);
  }
}
