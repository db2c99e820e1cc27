import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import pg from 'pg';

/** A tweet-sized event: what the appends of the product carry. */
export const sampleEventData = () => ({
  tweetId: randomUUID(),
  authorId: randomUUID(),
  text: 'Benchmarks measure a ratio against a limit taken in the same run on the same machine. '.repeat(
    2,
  ),
  createdAt: new Date().toISOString(),
});
export const sampleMetadata = () => ({
  schemaVersion: 1,
  correlationId: randomUUID(),
  causationId: randomUUID(),
  actorId: randomUUID(),
  occurredAt: new Date().toISOString(),
});

/** Runs `task` on `workers` concurrent loops for `durationMs`; returns completed tasks per second. */
export async function ratePerSecond(
  workers: number,
  durationMs: number,
  task: (worker: number) => Promise<unknown>,
) {
  const deadline = Date.now() + durationMs;
  const started = process.hrtime.bigint();
  const counts = await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      let n = 0;
      while (Date.now() < deadline) {
        await task(worker);
        n++;
      }
      return n;
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return counts.reduce((a, b) => a + b, 0) / seconds;
}

/**
 * The raw-append limit (docs/benchmarks.md): concurrent single-row INSERTs of an event-sized row,
 * one client per worker, synchronous commit on (the same durability the event store uses).
 */
export async function measureRawAppend({
  url,
  clients = 16,
  durationMs = 10_000,
}: {
  url: string;
  clients?: number;
  durationMs?: number;
}): Promise<number> {
  const table = `bench_raw_append_${process.pid}`;
  const connections = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('SET synchronous_commit = on');
      return client;
    }),
  );
  const [first] = connections;
  await first!.query(`CREATE UNLOGGED TABLE IF NOT EXISTS ${table}_probe (x int)`); // fails fast on a read-only server
  await first!.query(`DROP TABLE ${table}_probe`);
  await first!.query(`CREATE TABLE ${table} (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id text NOT NULL, event_id uuid NOT NULL, event_type text NOT NULL,
    data jsonb NOT NULL, metadata jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`);
  try {
    return await ratePerSecond(clients, durationMs, (worker) =>
      connections[worker]!.query({
        name: 'raw_append',
        text: `INSERT INTO ${table} (stream_id, event_id, event_type, data, metadata) VALUES ($1, $2, $3, $4, $5)`,
        values: [
          `tweet-${uuidv7()}`,
          uuidv7(),
          'TweetPosted',
          JSON.stringify(sampleEventData()),
          JSON.stringify(sampleMetadata()),
        ],
      }),
    );
  } finally {
    await first!.query(`DROP TABLE IF EXISTS ${table}`);
    await Promise.all(connections.map((c) => c.end()));
  }
}

/** One figure of a benchmark, printed as a JSON line (docs/benchmarks.md). */
export function printFigure(figure: Record<string, unknown> & { name: string }): void {
  const rounded = Object.fromEntries(
    Object.entries(figure).map(([k, v]) => [
      k,
      typeof v === 'number' ? Math.round(v * 100) / 100 : v,
    ]),
  );
  console.log(JSON.stringify(rounded));
}
