import { ChildService } from '@tweeter/shared/testing';

/** A real dispatcher process (`node --import tsx webhook-dispatcher/src/main.ts`), as production runs it. */
export class DispatcherProcess extends ChildService {
  constructor(port: number, env: Record<string, string>) {
    super({
      name: 'webhook-dispatcher',
      entry: 'webhook-dispatcher/src/main.ts',
      port,
      portVariable: 'DISPATCHER_PORT',
      env,
    });
  }

  /** Starts the process and waits until /readyz answers 200. */
  async start(timeoutMs = 30_000): Promise<void> {
    this.spawn();
    await this.waitUntilReady(timeoutMs);
  }
}
