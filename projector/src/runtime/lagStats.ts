import type { EventStore, Position } from '@tweeter/shared';

/** How far behind the head of the log a checkpoint is. */
export interface Lag {
  /** Events after the checkpoint: the store's `estimatedLag` (exact up to 10,000 on PostgreSQL). */
  lagEvents: number;
  /** Age of the oldest event not applied yet; 0 when caught up. */
  lagSeconds: number;
}

/**
 * Measures the lag of `checkpoint` from positions (no event is counted by reading it), and the
 * age of the next event to apply (one event read, only when behind).
 */
export async function measureLag(
  eventStore: EventStore,
  checkpoint: Position | null,
): Promise<Lag> {
  const lagEvents = await eventStore.estimatedLag(checkpoint);
  let lagSeconds = 0;
  if (lagEvents > 0) {
    const [next] = await eventStore.readAll({ after: checkpoint, maxCount: 1 });
    lagSeconds = next ? Math.max(0, (Date.now() - next.recordedAt.getTime()) / 1000) : 0;
  }
  return { lagEvents, lagSeconds };
}

/** Events applied per second over a sliding window of about ten seconds. */
export class ApplyRate {
  private total = 0;
  private readonly samples: { at: number; total: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  /** Counts `events` more applied. */
  add(events: number): void {
    this.total += events;
  }

  /** The rate now (0 until the window spans a second); each call also takes a sample. */
  perSecond(now = Date.now()): number {
    while (this.samples.length > 0 && now - this.samples[0]!.at > this.windowMs)
      this.samples.shift();
    this.samples.push({ at: now, total: this.total });
    const first = this.samples[0]!;
    const seconds = (now - first.at) / 1000;
    return seconds >= 1 ? Math.round((this.total - first.total) / seconds) : 0;
  }
}
