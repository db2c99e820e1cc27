import type { Kysely } from 'kysely';
import { createKysely, readActiveCopies, type EventStore } from '@tweeter/shared';
import type { ProjectorMetrics } from './metrics.ts';
import { hasCopies, type ProjectionDeclaration, type ProjectionDeps } from './projection.ts';
import { ProjectionRunner, type RunnerStatus } from './runner.ts';

export interface ProjectorOptions extends ProjectionDeps {
  eventStore: EventStore;
  databaseUrl: string;
  metrics?: ProjectorMetrics;
  /** The projections to run (the registry's, or the PROJECTOR_PROJECTIONS subset of them). */
  projections: readonly ProjectionDeclaration[];
  /** How often lag is refreshed and the active-copy registry is read. */
  tickMs?: number;
  lockPollMs?: number;
}

/**
 * The projector process's core: one runner per projection, each into the copy the registry
 * (`projections.active_copies`) names for a projection with copies; a switch of copy stops the
 * old runner and starts a new one. A projection without copies runs in its one fixed copy.
 */
export class Projector {
  private readonly runners = new Map<string, ProjectionRunner>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopped = false;
  private readonly db: Kysely<unknown>;
  /** The default copy of each projection with copies: what a missing registry row means. */
  private readonly defaults: Readonly<Record<string, string>>;

  constructor(private readonly options: ProjectorOptions) {
    this.db = createKysely(options.pool);
    this.defaults = Object.fromEntries(
      options.projections.filter(hasCopies).map((p) => [p.name, p.copies.default]),
    );
  }

  async start(): Promise<void> {
    const copies = await this.copies();
    for (const declaration of this.options.projections) this.startRunner(declaration, copies);
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 1000);
  }

  /** Each projection's copy: the registry's for one with copies, '' (fixed) for the others. */
  private async copies(): Promise<Map<ProjectionDeclaration, string>> {
    const active = await readActiveCopies(this.db, this.defaults);
    return new Map(
      this.options.projections.map((p) => [p, hasCopies(p) ? (active[p.name] ?? '') : '']),
    );
  }

  private startRunner(
    declaration: ProjectionDeclaration,
    copies: Map<ProjectionDeclaration, string>,
  ): void {
    const projection = declaration.create(copies.get(declaration) ?? '', this.options);
    const runner = new ProjectionRunner({
      projection,
      eventStore: this.options.eventStore,
      databaseUrl: this.options.databaseUrl,
      logger: this.options.logger,
      batchSize: declaration.catchUpBatchSize,
      ...(this.options.metrics ? { metrics: this.options.metrics } : {}),
      ...(this.options.lockPollMs ? { lockPollMs: this.options.lockPollMs } : {}),
    });
    this.runners.set(declaration.name, runner);
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
      for (const declaration of this.options.projections) {
        const runner = this.runners.get(declaration.name);
        const copy = copies.get(declaration) ?? '';
        if (runner && hasCopies(declaration) && runner.copy !== copy && !this.stopped) {
          this.options.logger.info(
            { projection: declaration.name, from: runner.copy, to: copy },
            'active copy switched; following it',
          );
          await runner.stop();
          this.startRunner(declaration, copies);
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
