/**
 * The peer of `eventstore-append` (docs/benchmarks.md): Emmett's PostgreSQL event store
 * (`@event-driven-io/emmett-postgresql`) appending as the benchmark appends to ours: 16 concurrent
 * appenders, one tweet-sized event per append, each to a new stream that must not exist yet. It
 * runs in a child process that the benchmark drives round by round, so that its rounds alternate
 * with ours on the same machine.
 *
 * A process of its own because Emmett's connection layer sets node-postgres' global type parsers
 * (int8 as BigInt, JSON by its own parser) at odds with the product's (int8 as Number): in one
 * process, one store would run with the other's parsers.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { repoRoot } from '../src/testing/processes.ts';
import { ratePerSecond, sampleEventData, sampleMetadata } from './rawAppend.ts';

const library = '@event-driven-io/emmett-postgresql';
/** How the child learns its database (not on its command line, which `ps` shows). */
const urlVariable = 'BENCH_EMMETT_DATABASE_URL';
const appenders = 16;
/** As the benchmark's own store (PostgresEventStore's default pool). */
const poolSize = 20;

type Reply = { ready: true; version: string } | { rate: number } | { error: string };

export interface EmmettPeer {
  /** What a round runs, with the library's version as installed, for the figure line. */
  description: string;
  /** Appends/s of the appenders over `durationMs`. */
  appendRate(durationMs: number): Promise<number>;
  close(): Promise<void>;
}

/** Starts the child on `url` (a database of its own) with Emmett's schema in place. */
export async function startEmmettPeer(url: string): Promise<EmmettPeer> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [urlVariable]: url },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const reply = () =>
    new Promise<Reply>((resolve, reject) => {
      const onMessage = (message: Reply) => {
        child.off('exit', onExit);
        resolve(message);
      };
      const onExit = (code: number | null) => {
        child.off('message', onMessage);
        reject(new Error(`the Emmett peer exited (${code})`));
      };
      child.once('message', onMessage);
      child.once('exit', onExit);
    });
  const expect = async <K extends string>(key: K) => {
    const message = await reply();
    if ('error' in message) throw new Error(`the Emmett peer failed: ${message.error}`);
    if (!(key in message)) throw new Error(`the Emmett peer answered ${JSON.stringify(message)}`);
    return message as Extract<Reply, Record<K, unknown>>;
  };
  try {
    const { version } = await expect('ready');
    return {
      description: `Emmett ${version} (${library}): getPostgreSQLEventStore, appendToStream of 1 event to a new stream (expectedStreamVersion 0), ${appenders} appenders, a node-postgres pool of ${poolSize}, in a process and a database of its own on the same server`,
      async appendRate(durationMs) {
        child.send({ durationMs });
        return (await expect('rate')).rate;
      },
      async close() {
        if (!child.connected) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.disconnect();
        await exited;
      },
    };
  } catch (error) {
    child.kill();
    throw error;
  }
}

/** The child: one store, then a measured round per request, until the parent disconnects. */
async function serve(url: string): Promise<void> {
  const send = (reply: Reply) => process.send!(reply);
  // Loaded here only: the benchmark's process never holds Emmett (nor its type parsers).
  const { getPostgreSQLEventStore, PostgreSQLEventStoreDefaultStreamVersion } =
    await import('@event-driven-io/emmett-postgresql');
  const resolved = createRequire(import.meta.url).resolve(library);
  const { version } = JSON.parse(
    readFileSync(path.join(path.dirname(resolved), '..', 'package.json'), 'utf8'),
  ) as { version: string };
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
  // Created now rather than by the first append, which would otherwise wait for it.
  await store.schema.migrate();
  process.on('message', ({ durationMs }: { durationMs: number }) => {
    ratePerSecond(appenders, durationMs, () =>
      store.appendToStream(
        `tweet-${uuidv7()}`,
        // The message id as the product makes event ids (UUIDv7), the rest of the metadata as ours.
        [
          {
            type: 'TweetPosted',
            data: sampleEventData(),
            metadata: { messageId: uuidv7(), ...sampleMetadata() },
          },
        ],
        // Position 0: the stream must not exist yet, as ours appends with 'no_stream' (Emmett 0.42
        // checks nothing for STREAM_DOES_NOT_EXIST: it appends at whatever the position is).
        { expectedStreamVersion: PostgreSQLEventStoreDefaultStreamVersion },
      ),
    ).then(
      (rate) => send({ rate }),
      (error: unknown) => send({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
  process.once('disconnect', () => {
    void store
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
  send({ ready: true, version });
}

if (process.send && import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  await serve(process.env[urlVariable]!).catch((error: unknown) => {
    process.send!({ error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
