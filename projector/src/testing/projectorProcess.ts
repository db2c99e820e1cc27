import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunnerStatus } from '../runtime/runner.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** A real projector process (`node --import tsx projector/src/main.ts`), as production runs it. */
export class ProjectorProcess {
  private child: ChildProcess | undefined;
  readonly output: string[] = [];

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  start(): void {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'projector/src/main.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        EVENTSTORE_CONNECTION_STRING: '',
        ...this.env,
        PROJECTOR_PORT: String(this.port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** Kills the process and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
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
  ): Promise<RunnerStatus[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status();
      if (status && done(status)) return status;
      if (Date.now() > deadline)
        throw new Error(
          `projector on port ${this.port}: ${what} not reached within ${timeoutMs} ms; status ${JSON.stringify(status)}; output:\n${this.output.join('').slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
