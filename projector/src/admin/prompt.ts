import { createInterface } from 'node:readline/promises';
import { AdminError } from './errors.ts';

/**
 * The confirmation of a destructive command: `--yes` skips it; on a terminal the operator answers
 * y/N; without a terminal (a script, CI) it refuses, so nothing is destroyed by accident.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY)
    throw new AdminError(`refusing without a terminal to confirm: ${question} (pass --yes)`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new AdminError('cancelled', 1);
  } finally {
    rl.close();
  }
}
