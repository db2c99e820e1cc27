import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { FixtureSlot } from './fixtures.ts';
import { ReferenceModel, seededRandom, type ModelUser } from './referenceReads.ts';
import { connectRedis, type RedisClient } from '../redis/redis.ts';
import { testRedisServers } from './resources.ts';
import { serviceRequest } from './serviceRequest.ts';
import { startStack, type Stack } from './stack.ts';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const answerOf = async (response: Response): Promise<ApiAnswer> => {
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
};

/**
 * The product's HTTP API on a running stack for end-to-end tests: writes go to the command
 * service and the successful ones are mirrored into `model`; the newest X-Event-Position seen is
 * kept, so that reads from the query service can wait for every write (read-your-writes).
 */
export class ModelledApi {
  /** The newest X-Event-Position a command answered with ('' before the first). */
  lastPosition = '';

  constructor(
    private readonly stack: () => Pick<Stack, 'command' | 'query'>,
    readonly model: ReferenceModel,
  ) {}

  async command(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<ApiAnswer> {
    const response = await fetch(
      `${this.stack().command.baseUrl}${path}`,
      serviceRequest(method, options),
    );
    const position = response.headers.get('x-event-position');
    if (position !== null && position > this.lastPosition) this.lastPosition = position;
    return answerOf(response);
  }

  /** A GET on the query service, waiting for `minPosition` (default: the last write seen). */
  async read(
    path: string,
    options: { token?: string; minPosition?: string } = {},
  ): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    const minPosition = options.minPosition ?? this.lastPosition;
    if (minPosition) headers['x-min-position'] = minPosition;
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    return answerOf(await fetch(`${this.stack().query.baseUrl}${path}`, { headers }));
  }

  /** Signs `username` up (201) and adds the user to the model. */
  async createUser(username: string): Promise<ModelUser> {
    const created = await this.command('POST', '/users', { body: { username } });
    expect(created.status).toBe(201);
    const user: ModelUser = {
      id: created.body.id as string,
      username,
      displayName: username,
      bio: '',
      createdAt: created.body.createdAt as string,
      token: created.body.token as string,
      alive: true,
    };
    this.model.users.set(user.id, user);
    return user;
  }

  /** `a` follows `b` (204; 400 for oneself), in the model too. */
  async follow(a: ModelUser, b: ModelUser): Promise<void> {
    const answer = await this.command('PUT', `/users/${a.id}/following/${b.id}`, {
      token: a.token,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(a.id === b.id ? 400 : 204);
    this.model.follow(a.id, b.id);
  }

  /** Posts `text` as `author` (202) and adds the tweet to the model; its id. */
  async post(author: ModelUser, text: string): Promise<string> {
    const answer = await this.command('POST', '/tweets', { token: author.token, body: { text } });
    expect(answer.status).toBe(202);
    const id = answer.body.id as string;
    this.model.tweets.set(id, {
      id,
      authorId: author.id,
      text,
      createdAt: answer.body.createdAt as string,
    });
    return id;
  }
}

export interface ModelledStackFixture {
  /** The product as processes (started before the file's tests, stopped after them). */
  readonly stack: Stack;
  /** Redis under the stack's key prefix. */
  readonly redis: RedisClient;
  /** What every listing must show, from the commands sent through `api`. */
  readonly model: ReferenceModel;
  /** The seeded random source of the file's workload. */
  readonly rng: ReturnType<typeof seededRandom>;
  readonly api: ModelledApi;
}

/**
 * The setup of an end-to-end file that drives the whole product with a seeded workload and
 * compares it with a reference model: the stack started with `env` before the file's tests, a
 * Redis client on its prefix, and the model and API the workload goes through. When a test of
 * the file fails, the processes' output is printed as the stack stops.
 */
export function useModelledStack(env: Record<string, string>, seed: number): ModelledStackFixture {
  const stack = new FixtureSlot<Stack>('useModelledStack stack');
  const redis = new FixtureSlot<RedisClient>('useModelledStack redis');
  const model = new ReferenceModel();
  let failed = false;
  beforeAll(async () => {
    const { redisPrefix } = stack.set(await startStack(env));
    redis.set(connectRedis(testRedisServers(), redisPrefix));
  });
  beforeEach(({ onTestFailed }) =>
    onTestFailed(() => {
      failed = true;
    }),
  );
  afterAll(async () => {
    redis.peek()?.disconnect();
    await stack.peek()?.stop({ printOutput: failed });
  });
  return {
    get stack() {
      return stack.get();
    },
    get redis() {
      return redis.get();
    },
    model,
    rng: seededRandom(seed),
    api: new ModelledApi(() => stack.get(), model),
  };
}
