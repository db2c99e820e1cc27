import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import {
  allEvents,
  apiClient,
  signUp,
  startCommandService,
} from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;
const eventCount = async () => (await allEvents(fixture.service.eventStore)).length;

describe('POST /tweets', () => {
  it('accepts a tweet: 202, the tweet, Location and X-Event-Position', async () => {
    const alice = await signUp(call);
    const response = await call('POST', '/tweets', {
      token: alice.token,
      body: { text: 'Hello, world' },
    });
    expect(response.status).toBe(202);
    const { id, createdAt } = response.body as Record<string, string>;
    expect(response.body).toEqual({ id, authorId: alice.id, text: 'Hello, world', createdAt });
    expect(response.headers.get('location')).toBe(`/tweets/${id}`);
    const position = response.headers.get('x-event-position');
    // The tweet is in its author's stream, right after the user; then its own stream names the
    // author.
    const [, posted] = await fixture.service.eventStore.readStream(`user-${alice.id}`);
    expect(posted).toMatchObject({ type: 'TweetPosted', position, data: { tweetId: id } });
    expect(posted?.metadata).toMatchObject({ actorId: alice.id, schemaVersion: 1 });
    const [record] = await fixture.service.eventStore.readStream(`tweet-${id}`);
    expect(record).toMatchObject({
      type: 'TweetAuthorRecorded',
      data: { tweetId: id, authorId: alice.id },
    });
    expect(position! < record!.position).toBe(true);
  });

  it('counts 1–280 code points after NFC, and refuses blank, control and lone-surrogate text', async () => {
    const alice = await signUp(call);
    const post = (text: unknown) => call('POST', '/tweets', { token: alice.token, body: { text } });
    const accepted = [
      '😀'.repeat(280),
      'e\u0301'.repeat(280), // 560 code points before NFC, 280 after
      'שלום 👋🏽 مرحبا', // right-to-left text, an emoji with a skin-tone modifier
      '👨‍👩‍👧‍👦', // a ZWJ sequence
      'tab\tand\nnewline',
    ];
    for (const text of accepted) expect((await post(text)).status, text).toBe(202);
    const combining = await post('e\u0301');
    expect(combining.body.text).toBe('\u00e9');

    const before = await eventCount();
    for (const text of [
      '',
      '   ',
      '\n\t ',
      '😀'.repeat(281),
      'a'.repeat(281),
      'nul\u0000',
      'bell\u0007',
      'lone \ud83d',
      42,
      null,
    ]) {
      const response = await post(text);
      expect(response.status, JSON.stringify(text)).toBe(400);
      expect(response.body.type).toBe('/problems/validation');
    }
    expect(await eventCount()).toBe(before);
  });
});

describe('Idempotency-Key on POST /tweets', () => {
  const post = (base: string, token: string, key: string, text: string) =>
    apiClient(base)('POST', '/tweets', {
      token,
      body: { text },
      headers: { 'idempotency-key': key },
    });

  it('answers a repeat with the same status and body and appends nothing, also after a restart', async () => {
    const alice = await signUp(call);
    const key = uuidv7();
    const first = await post(fixture.service.baseUrl, alice.token, key, 'only once');
    expect(first.status).toBe(202);
    const before = await eventCount();
    const second = await post(fixture.service.baseUrl, alice.token, key, 'only once');
    expect([second.status, second.body]).toEqual([202, first.body]);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await eventCount()).toBe(before);

    const restarted = await startCommandService({
      databaseUrl: fixture.database.url,
      redisPrefix: fixture.redisPrefix,
    });
    try {
      const third = await post(restarted.baseUrl, alice.token, key, 'only once');
      expect([third.status, third.body]).toEqual([202, first.body]);
      expect(third.headers.get('x-event-position')).toBe(first.headers.get('x-event-position'));
    } finally {
      await restarted.close();
    }
    expect(await eventCount()).toBe(before);
    const posted = (await allEvents(fixture.service.eventStore)).filter(
      (e) => e.type === 'TweetPosted' && (e.data as { text: string }).text === 'only once',
    );
    expect(posted).toHaveLength(1);
  });

  it('answers a repeat as the first time after other posts, and after the tweet was deleted', async () => {
    const alice = await signUp(call);
    const key = uuidv7();
    const first = await post(fixture.service.baseUrl, alice.token, key, 'keyed');
    for (const text of ['later', 'and later'])
      await call('POST', '/tweets', { token: alice.token, body: { text } });
    const again = await post(fixture.service.baseUrl, alice.token, key, 'keyed');
    expect([again.status, again.body]).toEqual([202, first.body]);
    expect(again.headers.get('x-event-position')).toBe(first.headers.get('x-event-position'));
    const deleted = await call('DELETE', `/tweets/${String(first.body.id)}`, {
      token: alice.token,
    });
    expect(deleted.status).toBe(204);
    const before = await eventCount();
    const afterDeletion = await post(fixture.service.baseUrl, alice.token, key, 'keyed');
    expect([afterDeletion.status, afterDeletion.body]).toEqual([202, first.body]);
    expect(await eventCount()).toBe(before);
  });

  it('refuses the same key with another text: 409 idempotency-key-reused', async () => {
    const alice = await signUp(call);
    const key = uuidv7();
    await post(fixture.service.baseUrl, alice.token, key, 'one');
    const before = await eventCount();
    const reused = await post(fixture.service.baseUrl, alice.token, key, 'two');
    expect(reused.status).toBe(409);
    expect(reused.body.type).toBe('/problems/idempotency-key-reused');
    expect(await eventCount()).toBe(before);
  });

  it('scopes keys to the caller: two users may use the same key', async () => {
    const [alice, bob] = [await signUp(call), await signUp(call)];
    const key = uuidv7();
    const a = await post(fixture.service.baseUrl, alice.token, key, 'same');
    const b = await post(fixture.service.baseUrl, bob.token, key, 'same');
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('gives simultaneous repeats one tweet', async () => {
    const alice = await signUp(call);
    const key = uuidv7();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => post(fixture.service.baseUrl, alice.token, key, 'race')),
    );
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([202]));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
  });
});
