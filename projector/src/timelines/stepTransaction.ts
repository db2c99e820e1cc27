import type { Redis } from 'ioredis';
import type { Position, TimelineKeys } from '@tweeter/shared';
import { CheckpointMovedError } from '../runtime/projection.ts';
import { emitOp, HomePushBundler, type StepTransaction, type TimelineOp } from './rules/index.ts';
import type { ScriptLoader } from './scriptLoader.ts';

export interface StepWriterOptions {
  /** The writer connection: holds WATCH state, so it is a connection of its own. */
  redis: Redis;
  keys: TimelineKeys;
  scripts: ScriptLoader;
  cap: number;
  redisPrefix: string;
  /** The copy's name, for the error message of a step that failed half-way. */
  copy: string;
}

/**
 * Encodes one step (a batch, or a part of a large one) as one WATCH meta / MULTI … EXEC with the
 * step's checkpoint inside: all or nothing, and a flush or reset in between aborts the EXEC. Each
 * operation is sent by its rule (rules/); consecutive home pushes are bundled.
 */
export class StepWriter {
  /** Fan-out entries committed (ZADDs into home timelines by posts), for the benchmark. */
  readonly stats = { entries: 0 };

  constructor(private readonly options: StepWriterOptions) {}

  /**
   * Checks the stored checkpoint is `from` (WATCHing it) and sends the step's MULTI/EXEC with the
   * new checkpoint. Resolves once the EXEC is sent, to a promise of its outcome (wrapped: a
   * promise resolved with a promise would wait for it).
   */
  async send(
    ops: TimelineOp[],
    position: Position,
    from: Position | null,
  ): Promise<{ done: Promise<void> }> {
    const { redis: w, keys, scripts } = this.options;
    const meta = keys.meta;
    const prepared = await w
      .pipeline()
      .watch(meta)
      .hget(meta, 'checkpoint')
      .script('EXISTS', ...scripts.all())
      .exec();
    const failure = prepared?.find(([error]) => error);
    if (!prepared || failure) throw failure?.[0] ?? new Error('no reply from Redis');
    const stored = (prepared[1]![1] ?? null) as Position | null;
    if (stored !== from) {
      await w.unwatch();
      throw new CheckpointMovedError('timelines', from, stored);
    }
    // A command failing inside EXEC cannot be rolled back, so make sure the scripts are there.
    if ((prepared[2]![1] as number[]).some((p) => p !== 1)) await scripts.load();
    const m = w.multi();
    const tx: StepTransaction = {
      multi: m,
      keys,
      cap: this.options.cap,
      redisPrefix: this.options.redisPrefix,
      sha: (name) => scripts.sha(name),
    };
    const pushes = new HomePushBundler(tx);
    for (const op of ops) {
      if (op.kind === 'addEntries') {
        pushes.add(op);
        continue;
      }
      pushes.flush();
      emitOp(tx, op);
    }
    pushes.flush();
    m.hset(meta, 'checkpoint', position);
    const exec = m.exec();
    const done = exec.then((results) => {
      if (results === null) throw new CheckpointMovedError('timelines', from, null);
      for (const op of ops) if (op.kind === 'addEntries') this.stats.entries += op.entries.length;
      const failed = results.find(([error]) => error);
      if (failed)
        throw new Error(
          `timelines: a command of the batch up to ${position} failed (${String(failed[0])}); ` +
            `the copy ${this.options.copy} may be inconsistent: reset and replay it`,
        );
    });
    return { done };
  }
}
