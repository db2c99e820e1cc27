import cliProgress from 'cli-progress';

/** Progress of a replay towards a total: a bar on a terminal, plain lines otherwise. */
export interface Progress {
  /** Events applied so far (of `total`; the total may grow while events arrive). */
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * On a terminal, a cli-progress bar with events/s and ETA; when stdout is a pipe or a file
 * (CI logs, `| tee`), one plain line every `everyMs`, so logs stay readable. `quiet` (JSON mode)
 * shows nothing on stdout: the bar goes to stderr there, if stderr is a terminal.
 */
export function createProgress(
  label: string,
  options: { quiet?: boolean; everyMs?: number; total?: number } = {},
): Progress {
  const stream = options.quiet ? process.stderr : process.stdout;
  const started = Date.now();
  const rate = (done: number) => Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}`,
        etaBuffer: 50,
        fps: 5,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, options.total ?? 1), 0, { rate: 0 });
    return {
      update(done, total) {
        bar.setTotal(Math.max(1, total));
        bar.update(done, { rate: rate(done) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  if (options.quiet) return { update() {}, stop() {} };
  const everyMs = options.everyMs ?? 2000;
  let last = 0;
  let latest = { done: 0, total: options.total ?? 0 };
  let printed: typeof latest | undefined;
  const line = () => {
    printed = latest;
    const { done, total } = latest;
    const r = rate(done);
    const eta = r > 0 ? Math.ceil(Math.max(0, total - done) / r) : null;
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    stream.write(
      `${label}: ${done}/${total} events (${pct}%), ${r} events/s, ETA ${eta === null ? '-' : `${eta}s`}\n`,
    );
  };
  return {
    update(done, total) {
      latest = { done, total };
      if (Date.now() - last >= everyMs) {
        last = Date.now();
        line();
      }
    },
    stop() {
      if (printed !== latest) line();
    },
  };
}
