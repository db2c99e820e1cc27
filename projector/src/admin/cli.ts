import { Command, InvalidArgumentError, Option } from 'commander';
import {
  copiedProjections,
  isProjectionName,
  projectionNames,
  type ProjectionName,
} from '../registry.ts';
import { openContext, type AdminContext } from './context.ts';
import { AdminError, describeError } from './errors.ts';
import { rebuildProjection } from './rebuild.ts';
import { replayProjection } from './replay.ts';
import { resetProjection } from './reset.ts';
import { collectStatus, formatStatus } from './status.ts';
import { summarize } from '../verification/compare.ts';
import { verifyProjection } from './verify.ts';

// tweeter-admin: operate the projections (status, reset, replay, rebuild, verify) against the
// stack the environment names (the same variables as the services).

const projectionArg = (value: string): ProjectionName => {
  if (!isProjectionName(value))
    throw new InvalidArgumentError(`unknown projection; one of ${projectionNames.join(', ')}`);
  return value;
};
/** The projections with copies: what `rebuild` and `verify` work on. */
const copiedNames = copiedProjections.map((p) => p.name);

/** An option's parser: a whole number of at least `min`, else commander's refusal with `what`. */
const wholeNumber =
  (min: number, what: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(what);
    return n;
  };

const projectionOrAll = (value: string): ProjectionName | 'all' =>
  value === 'all' ? 'all' : projectionArg(value);

/** Ctrl-C (or SIGTERM) stops a long command between batches; a second one exits at once. */
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal}: stopping after the current batch (again to quit now)\n`);
    interrupt.abort();
  });

/** Runs a command with a context, turning every failure into one line and an exit code. */
function withContext(run: (ctx: AdminContext) => Promise<number | void>) {
  return async () => {
    let ctx: AdminContext | undefined;
    let code = 0;
    try {
      ctx = await openContext();
      code = (await run(ctx)) ?? 0;
    } catch (error) {
      process.stderr.write(`tweeter-admin: ${describeError(error)}\n`);
      code = error instanceof AdminError ? error.exitCode : 1;
    } finally {
      await ctx?.close();
    }
    process.exitCode = code;
  };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

const program = new Command('tweeter-admin')
  .description(
    'Operate the projections of Mini Tweeter: status, reset, replay, zero-downtime rebuild, verify. ' +
      "Configured by the services' environment (DATABASE_URL, REDIS_URL, REDIS_PREFIX, NATS_URL,\n" +
      'NATS_PREFIX, FANOUT_MAX_FOLLOWERS, PROJECTOR_PORT or PROJECTOR_URL).',
  )
  .showHelpAfterError('(run with --help for usage)');

program
  .command('status')
  .summary('state, checkpoint and lag of each projection')
  .description(
    'Each projection: active copy, state, checkpoint, head of the log, lag in events. ' +
      "The state comes from the projector's /status when it answers, else from the copy's lock.",
  )
  .option('--json', 'print JSON instead of a table')
  .action((opts: { json?: boolean }) =>
    withContext(async (ctx) => {
      const rows = await collectStatus(ctx);
      process.stdout.write(
        opts.json ? `${JSON.stringify({ projections: rows })}\n` : `${formatStatus(rows)}\n`,
      );
    })(),
  );

program
  .command('reset')
  .summary("delete a projection's data and checkpoint (it rebuilds)")
  .description(
    "Delete the projection's data and checkpoint in its active copy; it rebuilds from the start.\n" +
      'Safe while a projector runs it: the projector notices and starts over by itself.',
  )
  .argument('<projection>', projectionNames.join(' | '), projectionArg)
  .option('-y, --yes', 'do not ask for confirmation')
  .action((name: ProjectionName, opts: { yes?: boolean }) =>
    withContext(async (ctx) => {
      const r = await resetProjection(ctx, name, opts);
      process.stdout.write(
        `${r.projection} (${r.copy}): reset; ${r.runningProjector ? 'the running projector rebuilds it from the start' : 'no projector runs it: start one, or run replay'}\n`,
      );
    })(),
  );

program
  .command('replay')
  .summary('bring a projection to the head in the foreground, with progress')
  .description(
    'Bring the active copy to the head of the log in the foreground, with progress (events/s, ETA). ' +
      "Continues from the copy's checkpoint, so an interrupted replay resumes where it stopped.\n" +
      'If a projector runs the copy, nothing is written beside it: the copy is reset (after ' +
      "confirmation) and the projector's rebuild is followed until it reaches the head.\n" +
      'Exits 0 when caught up.',
  )
  .argument('<projection>', `${projectionNames.join(' | ')} | all`, projectionOrAll)
  .option('-y, --yes', 'do not ask for confirmation')
  .option('--from-start', 'reset a stopped copy first (destructive) instead of continuing')
  .option('--json', 'print the final figure of each projection as one JSON line')
  .option(
    '--batch-size <events>',
    "events per batch, each committed with its checkpoint (default: the projection's catch-up batch)",
    wholeNumber(1, 'a whole number above 0'),
  )
  .action(
    (
      target: ProjectionName | 'all',
      opts: { yes?: boolean; json?: boolean; fromStart?: boolean; batchSize?: number },
    ) =>
      withContext(async (ctx) => {
        const names = target === 'all' ? projectionNames : [target];
        for (const name of names) {
          const figure = await replayProjection(ctx, name, { ...opts, signal: interrupt.signal });
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(figure)}\n`
              : `${name}: caught up (${figure.events} events in ${figure.seconds} s, ${figure.value} events/s${figure.mode === 'followed' ? ', by the projector' : ''})\n`,
          );
        }
      })(),
  );

program
  .command('rebuild')
  .summary('zero-downtime rebuild into a new copy, then switch readers')
  .description(
    `Rebuild ${copiedNames.join(' or ')} into a new copy beside the live one, switch readers over ` +
      'atomically, hand the copy to the running projector, then drop the old copy. Queries keep ' +
      "answering throughout. Use after changing a projection's code; then run verify.",
  )
  .argument('<projection>', copiedNames.join(' | '), projectionArg)
  .addOption(
    new Option('--zero-downtime', 'required: build beside the live copy').makeOptionMandatory(),
  )
  .option('-y, --yes', 'do not ask for confirmation')
  .option('--json', 'print the result as one JSON line')
  .option(
    '--drain-ms <ms>',
    'wait this long after the switch before dropping the old copy',
    wholeNumber(0, 'a whole number of ms'),
    5000,
  )
  .action((name: ProjectionName, opts: { yes?: boolean; json?: boolean; drainMs: number }) =>
    withContext(async (ctx) => {
      const r = await rebuildProjection(ctx, name, {
        ...opts,
        signal: interrupt.signal,
        say: opts.json ? () => undefined : say,
      });
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(r)}\n`
          : `${name}: rebuilt into ${r.to} (${r.events} events, ${r.seconds} s); ${r.from} dropped\n`,
      );
    })(),
  );

program
  .command('verify')
  .summary('compare the live copy with a rebuild from the log')
  .description(
    "Rebuild the projection from the log into a scratch copy, up to the live copy's checkpoint,\n" +
      'and compare it with the live data. Exits 0 when identical, 1 with a summary of the ' +
      'differences (which users, rows or keys, and how).',
  )
  .argument('<projection>', copiedNames.join(' | '), projectionArg)
  .option('--json', 'print the result as JSON')
  .action((name: ProjectionName, opts: { json?: boolean }) =>
    withContext(async (ctx) => {
      const r = await verifyProjection(ctx, name, { signal: interrupt.signal });
      const at = `checkpoint ${r.checkpoint ?? 'start'}`;
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else if (r.differences.length === 0)
        process.stdout.write(
          `${name} (${r.copy}): identical to a rebuild from the log at ${at} (${r.compared} rows/keys compared)\n`,
        );
      else
        process.stdout.write(
          `${name} (${r.copy}): ${r.differences.length} difference(s) from a rebuild from the log at ${at}:\n${summarize(r.differences)}\n`,
        );
      return r.differences.length === 0 ? 0 : 1;
    })(),
  );

await program.parseAsync(process.argv);
