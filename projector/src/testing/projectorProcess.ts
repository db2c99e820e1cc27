import { ChildService } from '@tweeter/shared/testing';
import type { RunnerStatus } from '../runtime/runner.ts';

/** A real projector process (`node --import tsx projector/src/main.ts`), as production runs it. */
export class ProjectorProcess extends ChildService {
  constructor(port: number, env: Record<string, string>) {
    super({
      name: 'projector',
      entry: 'projector/src/main.ts',
      port,
      portVariable: 'PROJECTOR_PORT',
      env,
      // As scripts/stack.config.cjs runs it.
      nodeArgs: ['--max-semi-space-size=64'],
    });
  }

  /** Spawns the process; `waitFor` a status to know it is working. */
  start(): void {
    this.spawn();
  }

  async status(): Promise<RunnerStatus[] | null> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}/status`, {
        signal: AbortSignal.timeout(2000),
      });
      if (!response.ok) return null;
      return ((await response.json()) as { projections: RunnerStatus[] }).projections;
    } catch {
      return null;
    }
  }

  /** Polls /status until `done` holds; throws after `timeoutMs` with the process's last output. */
  async waitFor(
    done: (status: RunnerStatus[]) => boolean,
    timeoutMs: number,
    what: string,
    intervalMs = 100,
  ): Promise<RunnerStatus[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status();
      if (status && done(status)) return status;
      if (Date.now() > deadline)
        throw new Error(
          `projector on port ${this.port}: ${what} not reached within ${timeoutMs} ms; status ${JSON.stringify(status)}; output:\n${this.output.join('').slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
