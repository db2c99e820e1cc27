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
