import { spawnSync } from 'node:child_process';
import { createLogger } from '@tweeter/shared';
import {
  freePort,
  repoRoot,
  testDatabasePrefix,
  testPgStandbyUrl,
  uniqueTag,
} from '@tweeter/shared/testing';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { QueryServiceUnderTest, type TestUser } from '../testing/queryServiceUnderTest.ts';

/**
 * The query service reading its read model from a streaming hot standby (READ_DATABASE_URL):
 * the same answers as the primary, read-your-writes exact through X-Min-Position, and reads that
 * go to the primary — never a 5xx — while the standby is down or lags beyond the bound.
 *
 * The run's standby (TEST_PG_STANDBY_URL, shared by every file of the run) serves the cases that
 * leave it as it is; the cases that stop it or pause its replay make a standby of their own.
 */
const standbyUrl = testPgStandbyUrl();

/** `name{…labels…} value` of /metrics for the series whose labels include `label`, or 0. */
async function metric(baseUrl: string, name: string, label: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** Polls `check` until it holds, at most `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Projects until `position` is applied: the PostgreSQL event store shows an append only once every
 * older transaction of the server has ended, and other test files keep the server busy.
 */
async function projectUpTo(sut: QueryServiceUnderTest, position: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await sut.project();
    if ((sut.lastProjected ?? '') >= position) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`position ${position} was not projected`);
}

/** Posts a tweet and projects it. */
async function postProjected(sut: QueryServiceUnderTest, authorId: string, text: string) {
  const posted = await sut.post(authorId, text);
  await projectUpTo(sut, posted.position);
  return posted;
}

const texts = (page: { body: Record<string, unknown> }) =>
  (page.body.data as { text: string }[]).map((t) => t.text);

describe.skipIf(!standbyUrl)('reads from the read replica', () => {
  let sut: QueryServiceUnderTest;
  let primaryOnly: { baseUrl: string; close(): Promise<void> };
  let ada: TestUser;
  let grace: TestUser;

  beforeAll(async () => {
    sut = await QueryServiceUnderTest.start({
      consistencyWaitMs: 5000,
      readReplica: { standbyUrl: standbyUrl!, syncBeforeReads: false },
    });
    primaryOnly = await sut.startAnotherInstance({ primaryOnly: true });
    ada = await sut.createUser('ada');
    grace = await sut.createUser('grace');
    await sut.follow(ada.id, grace.id);
    for (let i = 0; i < 5; i++) await postProjected(sut, grace.id, `g${i}`);
  });

  afterAll(async () => {
    await primaryOnly?.close();
    await sut?.close();
  });

  it('answers as the primary does once the standby has replayed', async () => {
    await sut.standbyReplayed();
    const paths = [
      `/users/${grace.id}`,
      `/users/by-username/GRACE`,
      `/users/${grace.id}/followers`,
      `/users/${ada.id}/following`,
      `/users/${grace.id}/tweets?limit=2`,
    ];
    for (const path of paths) {
      const fromStandby = await sut.get(path);
      const fromPrimary = await fetch(`${primaryOnly.baseUrl}${path}`);
      expect(fromStandby.status).toBe(200);
      // Cursors are signed with each instance's own key: compare the data.
      const body = (await fromPrimary.json()) as Record<string, unknown>;
      expect(fromStandby.body.data ?? fromStandby.body).toEqual(body.data ?? body);
    }
    const timeline = await sut.all(`/users/${ada.id}/timeline`, { token: ada.token });
    expect(timeline).toHaveLength(5);
    expect(await metric(sut.baseUrl, 'query_read_replica_state', 'state="replica"')).toBe(1);
    for (const reason of ['down', 'lagging', 'error', 'behind'])
      expect(
        await metric(sut.baseUrl, 'query_read_replica_fallback_total', `reason="${reason}"`),
      ).toBe(0);
  });

  it('shows a write just made on the primary with X-Min-Position, never an older page', async () => {
    for (let i = 0; i < 15; i++) {
      const { position } = await postProjected(sut, grace.id, `fresh ${i}`);
      // No wait for the standby here: the request's own X-Min-Position wait does it.
      const [tweets, profile, timeline] = await Promise.all([
        sut.get(`/users/${grace.id}/tweets?limit=1`, { headers: { 'X-Min-Position': position } }),
        sut.get(`/users/${grace.id}`, { headers: { 'X-Min-Position': position } }),
        sut.get(`/users/${ada.id}/timeline?limit=1`, {
          token: ada.token,
          headers: { 'X-Min-Position': position },
        }),
      ]);
      expect(texts(tweets)).toEqual([`fresh ${i}`]);
      expect(profile.body.tweetCount).toBe(6 + i);
      expect(texts(timeline)).toEqual([`fresh ${i}`]);
    }
    expect(await metric(sut.baseUrl, 'query_read_replica_fallback_total', 'reason="behind"')).toBe(
      0,
    );
  });
});

/**
 * A standby of its own for the cases that stop it or pause its replay (the run's is shared by
 * the other files): scripts/pg-standby.sh on a free port, its data in a folder of its own.
 */
class OwnStandby {
  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly url: string,
  ) {}

  static async start(): Promise<OwnStandby> {
    const primary = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://127.0.0.1:5432');
    const standby = new OwnStandby(
      {
        ...process.env,
        PG_STANDBY_PORT: String(await freePort()),
        PG_STANDBY_DIR: `${repoRoot}.stack/pg-standby-${testDatabasePrefix()}${uniqueTag()}`,
        PG_PRIMARY_HOST: primary.hostname,
        PG_PRIMARY_PORT: primary.port || '5432',
      },
      '',
    );
    const url = standby.run('start');
    return new OwnStandby(standby.env, /^READ_DATABASE_URL_TEMPLATE=(.+)$/m.exec(url)![1]!);
  }

  run(command: 'start' | 'stop'): string {
    const result = spawnSync('bash', [`${repoRoot}scripts/pg-standby.sh`, command], {
      encoding: 'utf8',
      env: this.env,
      timeout: 120_000,
    });
    if (result.status !== 0)
      throw new Error(`pg-standby.sh ${command}: ${result.stdout}${result.stderr}`);
    return result.stdout;
  }

  /** One statement on the standby's `postgres` database. */
  async sql(text: string): Promise<void> {
    const client = new pg.Client({ connectionString: `${this.url}postgres` });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  }
}

describe.skipIf(!standbyUrl)('reads while the read replica cannot serve', () => {
  let standby: OwnStandby;
  let sut: QueryServiceUnderTest;
  const logger = createLogger('query-service-test', 'silent');
  const warn = vi.spyOn(logger, 'warn');
  const info = vi.spyOn(logger, 'info');
  let author: TestUser;
  let reader: TestUser;
  const messages = (spy: typeof warn, part: string) =>
    spy.mock.calls.filter((call) => call.some((a) => typeof a === 'string' && a.includes(part)))
      .length;

  beforeAll(async () => {
    standby = await OwnStandby.start();
    sut = await QueryServiceUnderTest.start({
      consistencyWaitMs: 5000,
      readReplica: { standbyUrl: standby.url, maxLagMs: 2000, syncBeforeReads: false },
      logger,
    });
    author = await sut.createUser('author');
    reader = await sut.createUser('reader');
    await sut.follow(reader.id, author.id);
    await postProjected(sut, author.id, 'first');
    await sut.standbyReplayed();
  });

  afterEach(async () => {
    await standby?.sql('SELECT pg_wal_replay_resume()').catch(() => undefined);
  });

  afterAll(async () => {
    await sut?.close();
    standby?.run('stop');
  });

  const fallbacks = (reason: string) =>
    metric(sut.baseUrl, 'query_read_replica_fallback_total', `reason="${reason}"`);
  const state = async () => {
    for (const s of ['replica', 'lagging', 'down'])
      if ((await metric(sut.baseUrl, 'query_read_replica_state', `state="${s}"`)) === 1) return s;
    return 'unknown';
  };

  it('waits for X-Min-Position until the standby has replayed it, then shows it', async () => {
    expect((await sut.get(`/users/${author.id}/tweets`)).status).toBe(200); // pool connected
    await postProjected(sut, author.id, 'nudge'); // a replayed commit just before the pause: no lag yet
    await sut.standbyReplayed();
    await standby.sql('SELECT pg_wal_replay_pause()');
    const { position } = await postProjected(sut, author.id, 'while paused');
    let answered = false;
    const waiting = sut
      .get(`/users/${author.id}/tweets?limit=1`, { headers: { 'X-Min-Position': position } })
      .finally(() => (answered = true));
    // The standby has the old page, and within the lag bound: the request waits on it.
    expect(texts(await sut.get(`/users/${author.id}/tweets?limit=1`))).toEqual(['nudge']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(answered).toBe(false);
    await standby.sql('SELECT pg_wal_replay_resume()');
    const page = await waiting;
    expect([page.status, page.body]).toEqual([200, expect.anything()]);
    expect(texts(page)).toEqual(['while paused']);
    expect(await fallbacks('behind')).toBe(0);
  });

  it('answers from the primary when the standby has not replayed X-Min-Position in time', async () => {
    // Another instance: CONSISTENCY_WAIT_MS 2 s, within the default 5 s lag bound.
    const instance = await sut.startAnotherInstance();
    try {
      await eventually(async () => (await state()) === 'replica');
      await standby.sql('SELECT pg_wal_replay_pause()');
      const { position } = await postProjected(sut, author.id, 'not replayed');
      const response = await fetch(`${instance.baseUrl}/users/${author.id}/tweets?limit=1`, {
        headers: { 'X-Min-Position': position },
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: { text: string }[] };
      expect(body.data.map((t) => t.text)).toEqual(['not replayed']);
      expect(
        await metric(instance.baseUrl, 'query_read_replica_fallback_total', 'reason="behind"'),
      ).toBe(1);
    } finally {
      await instance.close();
    }
  });

  it('reads from the primary while the standby lags beyond the bound, and back after', async () => {
    await eventually(async () => (await state()) === 'replica');
    await postProjected(sut, author.id, 'before lag');
    await sut.standbyReplayed();
    await standby.sql('SELECT pg_wal_replay_pause()');
    await postProjected(sut, author.id, 'lagged');
    // Past READ_REPLICA_MAX_LAG_MS (2 s here) and the next health check, the primary answers.
    await eventually(async () => {
      const page = await sut.get(`/users/${author.id}/tweets?limit=1`);
      expect(page.status).toBe(200);
      return texts(page)[0] === 'lagged';
    });
    expect(await state()).toBe('lagging');
    expect(await fallbacks('lagging')).toBeGreaterThan(0);
    const timeline = await sut.get(`/users/${reader.id}/timeline?limit=1`, { token: reader.token });
    expect(texts(timeline)).toEqual(['lagged']);
    expect(messages(warn, 'lags more than READ_REPLICA_MAX_LAG_MS')).toBe(1);
    await standby.sql('SELECT pg_wal_replay_resume()');
    await eventually(
      async () =>
        (await sut.get(`/users/${author.id}`)).status === 200 && (await state()) === 'replica',
    );
    expect(messages(info, 'caught up again')).toBe(1);
    expect(messages(warn, 'lags more than READ_REPLICA_MAX_LAG_MS')).toBe(1);
  });

  it('answers from the primary while the standby is down, and from it again once it is back', async () => {
    await eventually(async () => (await state()) === 'replica');
    const before = messages(warn, 'read replica unreachable');
    standby.run('stop');
    await sut.post(author.id, 'while down');
    const { position } = await postProjected(sut, author.id, 'while down 2');
    for (let i = 0; i < 10; i++) {
      const [tweets, timeline] = await Promise.all([
        sut.get(`/users/${author.id}/tweets?limit=1`, { headers: { 'X-Min-Position': position } }),
        sut.get(`/users/${reader.id}/timeline?limit=1`, { token: reader.token }),
      ]);
      expect([tweets.status, tweets.body]).toEqual([200, expect.anything()]);
      expect(texts(tweets)).toEqual(['while down 2']);
      expect(timeline.status).toBe(200);
      expect(texts(timeline)).toEqual(['while down 2']);
    }
    await eventually(async () => (await state()) === 'down');
    expect(await fallbacks('down')).toBeGreaterThan(0);
    // One line for the change of state, not one per request.
    expect(messages(warn, 'read replica unreachable') - before).toBe(1);
    standby.run('start');
    await eventually(
      async () =>
        (await sut.get(`/users/${author.id}`)).status === 200 && (await state()) === 'replica',
    );
    expect(messages(info, 'reachable again')).toBe(1);
    await sut.standbyReplayed();
    expect(texts(await sut.get(`/users/${author.id}/tweets?limit=1`))).toEqual(['while down 2']);
  });
});

if (!standbyUrl)
  console.warn(
    'skipped the read-replica tests: no TEST_PG_STANDBY_URL (bash scripts/pg-standby.sh start; the run starts one unless it is none)',
  );
