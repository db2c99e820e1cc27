import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository's root folder (services are started from there so `tsx` resolves). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ChildServiceOptions {
  /** A name for messages, e.g. 'projector'. */
  name: string;
  /** The entry file relative to the repository root, e.g. 'projector/src/main.ts'. */
  entry: string;
  /** The port the service listens on, and the variable that tells it (e.g. PROJECTOR_PORT). */
  port: number;
  portVariable: string;
  /** Environment of the child: only PATH is inherited, so a test states everything it relies on. */
  env: Record<string, string>;
  /** Node options before the entry, as the service is run in production. */
  nodeArgs?: string[];
}

/**
 * One service of the product as a child process (`node --import tsx <entry>`) that a test can
 * start, kill (SIGKILL by default, as a crash) and start again on the same port and environment.
 * Keeps its last output chunks for failure messages.
 */
export class ChildService {
  private child: ChildProcess | undefined;
  readonly output: string[] = [];

  constructor(private readonly options: ChildServiceOptions) {}

  get port(): number {
    return this.options.port;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** Spawns the process (it is not ready yet: see `waitUntilReady`). */
  spawn(): void {
    const args = [...(this.options.nodeArgs ?? []), '--import', 'tsx', this.options.entry];
    this.child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        EVENTSTORE_CONNECTION_STRING: '',
        ...this.options.env,
        [this.options.portVariable]: String(this.options.port),
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

  /** Polls `/readyz` until it answers 200; throws with the output if the process exits first. */
  async waitUntilReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running)
        throw new Error(`${this.options.name} exited during start-up:\n${this.output.join('')}`);
      try {
        const response = await fetch(`${this.baseUrl}/readyz`, {
          signal: AbortSignal.timeout(1000),
        });
        await response.arrayBuffer();
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(
          `${this.options.name} not ready within ${timeoutMs} ms:\n${this.output.join('')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Kills the process and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

export interface ServiceProcess {
  readonly name: string;
  readonly baseUrl: string;
  readonly child: ChildProcess;
  /** The last output of the process (stdout and stderr interleaved). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartServiceOptions {
  /** A name for messages, e.g. 'query-service'. */
  name: string;
  /** The entry file relative to the repository root, e.g. 'query-service/src/main.ts'. */
  entry: string;
  /** Environment on top of the test process's own. */
  env: Record<string, string>;
  /** The port the service listens on (also put it into `env` under the service's variable). */
  port: number;
  /** Polled until it answers 200 (default '/readyz'). */
  readyPath?: string;
  /** How long to wait for readiness (default 60 s: a cold tsx start on a busy machine is slow). */
  timeoutMs?: number;
  /** Bytes of output kept for failure reports (default 256 KiB). */
  keepOutputBytes?: number;
}

/**
 * Starts a service of the product as a child process (`node --import tsx <entry>`), waits until
 * its readiness endpoint answers 200, and hands back a way to stop it. If the process exits or
 * never becomes ready, the error carries its output, so a failing suite says why.
 */
export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const keep = options.keepOutputBytes ?? 256 * 1024;
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry], {
    cwd: repoRoot,
    env: { ...process.env, LOG_FORMAT: 'json', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > keep) output = output.slice(output.length - keep);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });

  const baseUrl = `http://127.0.0.1:${options.port}`;
  const service: ServiceProcess = {
    name: options.name,
    baseUrl,
    child,
    output: () => output,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(
        `${options.name} exited (code ${String(exitCode)}) before it was ready:\n${output}`,
      );
    try {
      const response = await fetch(`${baseUrl}${options.readyPath ?? '/readyz'}`, {
        signal: AbortSignal.timeout(2000),
      });
      await response.arrayBuffer();
      if (response.status === 200) return service;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await service.stop(2000);
      throw new Error(`${options.name} was not ready within the time allowed:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Prints the output of each process (e.g. in an afterAll when a test failed). */
export function printOutputs(services: readonly (ServiceProcess | undefined)[]): void {
  for (const service of services) {
    if (!service) continue;
    process.stderr.write(`\n----- output of ${service.name} -----\n${service.output()}\n`);
  }
}
