import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  freePort,
  printOutputs,
  startService,
  testNatsPrefix,
  testRedisPrefix,
  testRedisUrl,
  type ServiceProcess,
  type TestDatabase,
} from '../testing/index.ts';

/**
 * No credential may reach a log line in any form. The command and query services run as real
 * processes at LOG_LEVEL=debug (every request gets an access line); a real token is sent every way
 * a client could send it, then the processes' whole output is searched for the token and for any
 * fragment of its secret.
 */
let database: TestDatabase;
let command: ServiceProcess | undefined;
let query: ServiceProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  const [commandPort, queryPort] = [await freePort(), await freePort()];
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: testRedisPrefix(),
    NATS_PREFIX: testNatsPrefix(),
    RATE_LIMIT_WRITES_PER_MINUTE: '0',
    LOG_LEVEL: 'debug',
    COMMAND_PORT: String(commandPort),
    QUERY_PORT: String(queryPort),
  };
  [command, query] = await Promise.all([
    startService({
      name: 'command-service',
      entry: 'command-service/src/main.ts',
      env,
      port: commandPort,
    }),
    startService({
      name: 'query-service',
      entry: 'query-service/src/main.ts',
      env,
      port: queryPort,
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([command?.stop(), query?.stop()]);
  await database?.drop();
});

interface Sent {
  service: ServiceProcess;
  reqId: string;
  what: string;
  status: number;
}

async function send(
  service: ServiceProcess,
  what: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Sent> {
  const reqId = `creds-${randomUUID()}`;
  const response = await fetch(`${service.baseUrl}${path}`, {
    method,
    headers: { 'x-request-id': reqId, ...init.headers },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  await response.arrayBuffer();
  return { service, reqId, what, status: response.status };
}

/** The parsed JSON lines of a process's output (other lines are kept as `{ raw }`). */
const linesOf = (service: ServiceProcess): Record<string, unknown>[] =>
  service
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { raw: line };
      }
    });

describe('credentials never reach the logs', () => {
  it('a real token sent every way appears in no log line, in whole or in part', async ({
    onTestFailed,
  }) => {
    onTestFailed(() => printOutputs([command, query]));
    await sendTheTokenEveryWay();
  });
});

async function sendTheTokenEveryWay(): Promise<void> {
  const c = command!;
  const q = query!;
  const signUp = await fetch(`${c.baseUrl}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: `u_${randomUUID().slice(0, 8)}` }),
  });
  expect(signUp.status).toBe(201);
  const user = (await signUp.json()) as { id: string; token: string };
  const token = user.token;
  const secret = token.slice('mt_'.length + 32 + 1);
  expect(token).toMatch(/^mt_[0-9a-f]{32}_/);
  expect(secret).toHaveLength(43);

  const json = { 'content-type': 'application/json' };
  const tweet = JSON.stringify({ text: 'hello' });
  const encoded = [...token].map((ch) => `%${ch.charCodeAt(0).toString(16)}`).join('');
  const sent: Sent[] = [];
  for (const service of [c, q]) {
    const own = service === c ? `/users/${user.id}` : `/users/${user.id}/timeline`;
    const method = service === c ? 'PATCH' : 'GET';
    const body = service === c ? JSON.stringify({ bio: 'x' }) : undefined;
    const withBody = (headers: Record<string, string>) => ({
      headers: body === undefined ? headers : { ...json, ...headers },
      ...(body === undefined ? {} : { body }),
    });
    const cases: [string, string, string, Parameters<typeof send>[4]][] = [
      ['?access_token=', method, `${own}?access_token=${token}`, withBody({})],
      ['?token=', method, `${own}?token=${token}&limit=5`, withBody({})],
      ['?api_key= twice', method, `${own}?api_key=x&api_key=${token}`, withBody({})],
      ['token as a query key', method, `${own}?${token}`, withBody({})],
      ['bearer', method, own, withBody({ authorization: `Bearer ${token}` })],
      ['bearer + junk', method, own, withBody({ authorization: `Bearer ${token}junk more` })],
      ['malformed authorization', method, own, withBody({ authorization: `Bearer:${token}` })],
      ['no scheme', method, own, withBody({ authorization: token })],
      ['cookie', method, own, withBody({ cookie: `session=${token}; access_token=${token}` })],
      ['x-api-key', method, own, withBody({ 'x-api-key': token })],
      ['in the path', 'GET', `/users/${token}`, {}],
      ['percent-encoded in the path', 'GET', `/users/${encoded}`, {}],
      ['404 route', 'GET', `/nothing/here/${token}?access_token=${token}`, {}],
      [
        '404 route with bearer',
        'POST',
        `/${token}`,
        { headers: { authorization: `Bearer ${token}` } },
      ],
    ];
    if (service === c) {
      cases.push(
        [
          'json body field',
          'POST',
          '/tweets',
          {
            headers: { ...json, authorization: `Bearer ${token}` },
            body: JSON.stringify({ text: 'hi', token, access_token: token, password: token }),
          },
        ],
        [
          'json body, no auth',
          'POST',
          '/users',
          {
            headers: json,
            body: JSON.stringify({ username: 'x', token }),
          },
        ],
        [
          'malformed json: unquoted',
          'POST',
          '/tweets',
          {
            headers: { ...json, authorization: `Bearer ${token}` },
            body: `{"text": ${token}}`,
          },
        ],
        [
          'malformed json: secret first',
          'POST',
          '/tweets',
          {
            headers: json,
            body: `${secret} ${token}`,
          },
        ],
        [
          'malformed json: truncated',
          'POST',
          '/users',
          {
            headers: json,
            body: `{"token": "${token}",`,
          },
        ],
        [
          'invalid utf-8 body',
          'POST',
          '/tweets',
          {
            headers: { ...json, authorization: `Bearer ${token}` },
            body: Buffer.concat([
              Buffer.from(`{"text":"${token}`),
              Buffer.from([0xff, 0x22, 0x7d]),
            ]),
          },
        ],
        [
          'a valid write',
          'POST',
          '/tweets',
          {
            headers: { ...json, authorization: `Bearer ${token}` },
            body: tweet,
          },
        ],
      );
    }
    for (const [what, m, path, init] of cases) sent.push(await send(service, what, m, path, init));
  }
  // The valid requests really were accepted (their lines are debug lines).
  expect(sent.find((s) => s.what === 'a valid write')?.status).toBe(202);
  expect(sent.find((s) => s.service === c && s.what === 'bearer')?.status).toBe(200);

  // Every request has its access line (pino writes synchronously; give the pipes a moment).
  const accessLine = (s: Sent) =>
    linesOf(s.service).find((l) => l.reqId === s.reqId && l.msg === 'request completed');
  const deadline = Date.now() + 10_000;
  while (sent.some((s) => !accessLine(s)) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  for (const s of sent) {
    const line = accessLine(s);
    expect(line, `access line of ${s.service.name}: ${s.what}`).toBeDefined();
    expect(line?.status, s.what).toBe(s.status);
  }
  const output = `${c.output()}\n${q.output()}`;
  expect(output).not.toContain(token);
  expect(output).not.toContain(secret);
  expect(output).not.toContain(encoded);
  // Not even a fragment: no 12 consecutive characters of the secret anywhere.
  for (let i = 0; i + 12 <= secret.length; i++)
    expect(output, `fragment ${i} of the secret`).not.toContain(secret.slice(i, i + 12));
  expect(output).toMatch(/\[redacted\]/i);
  // The query string keeps its keys, never their values.
  const byQuery = accessLine(sent.find((s) => s.service === c && s.what === '?token=')!);
  expect(byQuery?.url).toBe(`/users/${user.id}?token=[redacted]&limit=[redacted]`);
}
