import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from '@tweeter/shared/testing';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A real `tweeter-admin` process (the bin launcher), stdin not a terminal. */
export function startCli(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['projector/bin/tweeter-admin', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', EVENTSTORE_CONNECTION_STRING: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.once('exit', (code, signal) =>
      // 'exit' may come before the pipes drain; 'close' follows once they have.
      child.once('close', () => resolve({ code, signal, stdout, stderr })),
    ),
  );
  return { child, done, output: () => ({ stdout, stderr }) };
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return startCli(args, env).done;
}

/**
 * `tweeter-admin` on a pseudo-terminal (util-linux `script`), answering `answer` to its question
 * once the question (`[y/N]`) shows.
 */
export function runCliOnTerminal(
  args: string[],
  env: Record<string, string>,
  answer: string,
): Promise<CliResult> {
  const command = ['node', 'projector/bin/tweeter-admin', ...args].join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', EVENTSTORE_CONNECTION_STRING: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let answered = false;
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (!answered && stdout.includes('[y/N]')) {
      answered = true;
      child.stdin.write(`${answer}\n`);
    }
  });
  return new Promise((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr: '' })),
  );
}
