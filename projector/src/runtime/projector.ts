import type { Kysely } from 'kysely';
import {
  createKysely,
  readActiveCopies,
  type ActiveCopies,
  type EventStore,
} from '@tweeter/shared';
import { catchUpBatchSize, createProjection, type ProjectionDeps } from '../projections.ts';
import type { ProjectorMetrics } from './metrics.ts';
import type { ProjectionName } from './projection.ts';
import { ProjectionRunner, type RunnerStatus } from './runner.ts';

export interface ProjectorOptions extends ProjectionDeps {
  eventStore: EventStore;
  databaseUrl: string;
  metrics?: ProjectorMetrics;
  projections: readonly ProjectionName[];
  /** How often lag is refreshed and the active-copy registry is read. */
  tickMs?: number;
  lockPollMs?: number;
}

/**
 * The projector process's core: one runner per projection, each into the copy the registry
 * (`projections.active_copies`) names; a switch of copy stops the old runner and starts a new one.
 */
export class Projector {
  private readonly runners = new Map<ProjectionName, ProjectionRunner>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopped = false;
  private readonly db: Kysely<unknown>;

  constructor(private readonly options: ProjectorOptions) {
    this.db = createKysely(options.pool);
  }

  async start(): Promise<void> {
    const copies = await this.copies();
    for (const name of this.options.projections) this.startRunner(name, copies);
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 1000);
  }

  private copyOf(name: ProjectionName, copies: ActiveCopies): string {
    return name === 'integration-events' ? '' : copies[name];
  }

  private async copies(): Promise<ActiveCopies> {
    return readActiveCopies(this.db);
  }

  private startRunner(name: ProjectionName, copies: ActiveCopies): void {
    const projection = createProjection(name, this.copyOf(name, copies), this.options);
    const runner = new ProjectionRunner({
      projection,
      eventStore: this.options.eventStore,
      databaseUrl: this.options.databaseUrl,
      logger: this.options.logger,
      batchSize: catchUpBatchSize[name],
      ...(this.options.metrics ? { metrics: this.options.metrics } : {}),
      ...(this.options.lockPollMs ? { lockPollMs: this.options.lockPollMs } : {}),
    });
    this.runners.set(name, runner);
    runner.start();
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const head = await this.options.eventStore.headPosition();
      this.options.metrics?.setHead(head);
      await Promise.all([...this.runners.values()].map((r) => r.tick(head)));
      const copies = await this.copies();
      for (const [name, runner] of this.runners) {
        const copy = this.copyOf(name, copies);
        if (name !== 'integration-events' && runner.copy !== copy && !this.stopped) {
          this.options.logger.info(
            { projection: name, from: runner.copy, to: copy },
            'active copy switched; following it',
          );
          await runner.stop();
          this.startRunner(name, copies);
        }
      }
    } catch (error) {
      this.options.logger.debug({ err: error }, 'tick failed');
    } finally {
      this.ticking = false;
    }
  }

  status(): RunnerStatus[] {
    return [...this.runners.values()].map((r) => r.status());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }
}
