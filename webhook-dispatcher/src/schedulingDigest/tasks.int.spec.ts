import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/dispatcherUnderTest.ts';
import { useDispatcher } from '../testing/useDispatcher.ts';
import { createTestUser, type TestUser } from '../testing/users.ts';

const webhookSecret = `whsec_${Buffer.from('a digest secret of 32 bytes!!!!!').toString('base64')}`;

const fixture = useDispatcher({
  queryServiceStub: true,
  receiver: true,
  env: () => ({
    API_URL: fixture.stub.url,
    API_TOKEN: 'query-token',
    WEBHOOK_SECRET: webhookSecret,
    RATE_LIMIT_MAX_SIMULTANEOUS_JOBS: '3',
    SCHEDULE_INTERVAL: '300',
  }),
});
const { call } = fixture;
let caller: TestUser;
let stranger: TestUser;

beforeAll(async () => {
  caller = await createTestUser(fixture.side.eventStore);
  stranger = await createTestUser(fixture.side.eventStore);
});

const schedule = (body: unknown, token = caller.token) => call('POST', '/tasks', { token, body });
const taskOf = async (id: string) =>
  (await call('GET', `/tasks/${id}`, { token: caller.token })).body;
const finished = (id: string) =>
  eventually(async () => {
    const task = await taskOf(id);
    return task.status === 'succeeded' || task.status === 'failed' ? task : undefined;
  });

describe('digest tasks', () => {
  it('429 with Retry-After past RATE_LIMIT_MAX_SIMULTANEOUS_JOBS unfinished tasks', async () => {
    const ids: string[] = [];
    for (const name of ['cap_a', 'cap_b', 'cap_c']) {
      fixture.stub.addUser(name);
      const response = await schedule({ username: name, webhookUrl: fixture.receiver.url });
      expect(response.status).toBe(202);
      ids.push(String(response.body.id));
    }
    fixture.stub.addUser('cap_d');
    const refused = await schedule({ username: 'cap_d', webhookUrl: fixture.receiver.url });
    expect(refused.status).toBe(429);
    expect(refused.body.type).toBe('/problems/rate-limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    for (const id of ids) expect((await finished(id)).status).toBe('succeeded');
    expect((await schedule({ username: 'cap_d', webhookUrl: fixture.receiver.url })).status).toBe(
      202,
    );
  });

  it('after SCHEDULE_INTERVAL delivers the signed digest from API_URL, with the task id as webhook-id', async () => {
    const user = fixture.stub.addUser('Digested');
    const before = fixture.receiver.requests.length;
    const started = Date.now();
    const response = await schedule({ username: 'digested', webhookUrl: fixture.receiver.url });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ username: 'Digested', status: 'scheduled' });
    const id = response.body.id as string;
    expect(response.headers.get('location')).toBe(`/tasks/${id}`);
    const runAt = Date.parse(response.body.runAt as string);
    expect(runAt - started).toBeGreaterThanOrEqual(250);

    const task = await finished(id);
    expect(task).toMatchObject({ status: 'succeeded', attempts: 1, lastError: null });
    const request = fixture.receiver.requests
      .slice(before)
      .find((r) => r.headers['webhook-id'] === id)!;
    expect(request.at).toBeGreaterThanOrEqual(runAt - 5);
    const payload = new Webhook(webhookSecret).verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    }) as { type: string; data: { user: { id: string }; tweets: unknown[]; followers: unknown[] } };
    expect(payload.type).toBe('user.digest');
    expect(payload.data.user.id).toBe(user.id);
    expect(payload.data.tweets).toHaveLength(20);
    expect(payload.data.followers).toHaveLength(20);
    expect(fixture.stub.authorizations.at(-1)).toBe('Bearer query-token');
  });

  it('X-Min-Position: the lookup and every digest read wait for it; a malformed one is a 400', async () => {
    const position = '0000000000001a2b0000000000000042';
    const bad = await call('POST', '/tasks', {
      token: caller.token,
      headers: { 'x-min-position': 'not-a-position' },
      body: { username: 'fresh', webhookUrl: fixture.receiver.url },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { path: 'X-Min-Position', message: 'must be the value of an X-Event-Position header' },
    ]);

    const user = fixture.stub.addUser('fresh');
    const seen = fixture.stub.minPositions.length;
    const response = await call('POST', '/tasks', {
      token: caller.token,
      headers: { 'x-min-position': position },
      body: { username: 'fresh', webhookUrl: fixture.receiver.url },
    });
    expect(response.status).toBe(202);
    expect((await finished(response.body.id as string)).status).toBe('succeeded');
    // The lookup at POST /tasks, then the digest's three reads when it runs.
    const requests = fixture.stub.minPositions.slice(seen);
    expect(requests.map((r) => r.path).sort()).toEqual(
      [
        '/users/by-username/fresh',
        '/users/by-username/fresh',
        `/users/${user.id}/followers`,
        `/users/${user.id}/tweets`,
      ].sort(),
    );
    expect(requests.map((r) => r.minPosition)).toEqual(Array(4).fill(position));
  });

  it('409 naming the unfinished task until it succeeds; retries with the same webhook-id', async () => {
    fixture.stub.addUser('retried');
    let failures = 2;
    fixture.receiver.respond = ({ headers }) =>
      headers['webhook-id'] !== undefined && failures-- > 0 ? { status: 500 } : { status: 204 };
    const first = await schedule({ username: 'retried', webhookUrl: fixture.receiver.url });
    expect(first.status).toBe(202);
    const id = first.body.id as string;
    const duplicate = await schedule({ username: 'RETRIED', webhookUrl: fixture.receiver.url });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({
      type: '/problems/conflict',
      task: { id, status: 'scheduled' },
    });
    // Still held while retrying.
    await eventually(async () => ((await taskOf(id)).status === 'retrying' ? true : undefined));
    const whileRetrying = await schedule({ username: 'retried', webhookUrl: fixture.receiver.url });
    expect(whileRetrying.status).toBe(409);
    expect(whileRetrying.body.task).toMatchObject({ id });

    const task = await finished(id);
    fixture.receiver.respond = () => ({ status: 204 });
    expect(task).toMatchObject({ status: 'succeeded', attempts: 3 });
    const ids = fixture.receiver.requests.filter((r) => r.headers['webhook-id'] === id);
    expect(ids.map((r) => r.status)).toEqual([500, 500, 204]);
    // Finished: the username is free again.
    expect((await schedule({ username: 'retried', webhookUrl: fixture.receiver.url })).status).toBe(
      202,
    );
  });

  it('fails after RETRY_MAX_ATTEMPTS retries (also when the query service is down) and frees the key', async () => {
    fixture.stub.addUser('doomed');
    const response = await schedule({ username: 'doomed', webhookUrl: fixture.receiver.url });
    expect(response.status).toBe(202);
    fixture.stub.failWith = 500;
    const task = await finished(response.body.id as string);
    fixture.stub.failWith = 503;
    expect((await schedule({ username: 'doomed', webhookUrl: fixture.receiver.url })).status).toBe(
      503,
    );
    fixture.stub.failWith = null;
    expect(task.status).toBe('failed');
    expect(task.attempts).toBe(4);
    expect(task.lastError).toMatch(/query service answered 500/);
    expect(task.finishedAt).not.toBeNull();
    expect((await schedule({ username: 'doomed', webhookUrl: fixture.receiver.url })).status).toBe(
      202,
    );
  });

  it('404 for an unknown user, 400 without any webhook URL or with a bad body, 403/404 on GET', async () => {
    const unknown = await schedule({ username: 'nobody_here', webhookUrl: fixture.receiver.url });
    expect(unknown.status).toBe(404);
    fixture.stub.addUser('nourl');
    expect((await schedule({ username: 'nourl' })).status).toBe(400);
    expect(
      (await schedule({ username: 'bad name!', webhookUrl: fixture.receiver.url })).status,
    ).toBe(400);
    expect(
      (await schedule({ username: 'nourl', webhookUrl: fixture.receiver.url, x: 1 })).status,
    ).toBe(400);
    expect((await call('POST', '/tasks', { body: { username: 'nourl' } })).status).toBe(401);

    fixture.stub.addUser('owned');
    const mine = await schedule({ username: 'owned', webhookUrl: fixture.receiver.url });
    const id = mine.body.id as string;
    expect((await call('GET', `/tasks/${id}`, { token: stranger.token })).status).toBe(403);
    expect(
      (await call('GET', `/tasks/${crypto.randomUUID()}`, { token: caller.token })).status,
    ).toBe(404);
    const got = await call('GET', `/tasks/${id}`, { token: caller.token });
    expect(Object.keys(got.body).sort()).toEqual(
      ['attempts', 'finishedAt', 'id', 'lastError', 'runAt', 'status', 'username'].sort(),
    );
    await finished(id);
  });
});
