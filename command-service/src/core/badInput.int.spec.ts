import { issueToken } from '@tweeter/shared';
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { countEvents, signUp } from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;
const eventCount = () => countEvents(fixture.service.eventStore);

async function raw(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer },
) {
  const response = await fetch(`${fixture.service.baseUrl}${path}`, { method, ...init });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: text ? (JSON.parse(text) as { type?: string }) : {},
  };
}

describe('malformed requests get the right 4xx problem and append nothing', () => {
  it('malformed JSON → 400, wrong content type → 415, too large → 413, unknown route → 404', async () => {
    const user = await signUp(call);
    const auth = { authorization: `Bearer ${user.token}` };
    const before = await eventCount();
    const cases: [number, string, Promise<Awaited<ReturnType<typeof raw>>>][] = [
      [
        400,
        'validation',
        raw('POST', '/users', {
          headers: { 'content-type': 'application/json' },
          body: '{"username": "x",',
        }),
      ],
      [
        400,
        'validation',
        raw('POST', '/tweets', {
          headers: { ...auth, 'content-type': 'application/json' },
          body: 'null',
        }),
      ],
      [
        400,
        'validation',
        raw('POST', '/tweets', {
          headers: { ...auth, 'content-type': 'application/json' },
          body: '"text"',
        }),
      ],
      [
        400,
        'validation',
        raw('POST', '/tweets', {
          headers: { ...auth, 'content-type': 'application/json' },
          body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
        }),
      ],
      [
        415,
        'unsupported-media-type',
        raw('POST', '/users', {
          headers: { 'content-type': 'text/plain' },
          body: '{"username":"x"}',
        }),
      ],
      [
        415,
        'unsupported-media-type',
        raw('POST', '/tweets', {
          headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'text=hi',
        }),
      ],
      [
        415,
        'unsupported-media-type',
        raw('POST', '/users', {
          headers: { 'content-type': 'application/json; charset=latin1' },
          body: '{"username":"x"}',
        }),
      ],
      [
        413,
        'payload-too-large',
        raw('POST', '/tweets', {
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'x'.repeat(17 * 1024) }),
        }),
      ],
      [
        400,
        'validation',
        raw('POST', '/users', {
          headers: { 'content-type': 'application/json' },
          body: '{"username":"a\\u0000b"}',
        }),
      ],
      [
        400,
        'validation',
        raw('POST', '/users', {
          headers: { 'content-type': 'application/json' },
          body: '{"username":"ok","__proto__":{"admin":true}}',
        }),
      ],
      [
        400,
        'validation',
        raw('PATCH', `/users/${user.id}`, {
          headers: { ...auth, 'content-type': 'application/json' },
          body: '{"displayName":"\\ud800"}',
        }),
      ],
      [400, 'validation', raw('DELETE', '/tweets/%E0%A4%A', { headers: auth })],
      [
        400,
        'validation',
        raw('DELETE', `/users/${user.id}/following/${'9'.repeat(36)}`, { headers: auth }),
      ],
      [404, 'not-found', raw('POST', '/timeline', { headers: auth })],
    ];
    for (const [status, type, pending] of cases) {
      const response = await pending;
      expect(response.status, type).toBe(status);
      expect(response.type).toMatch(/^application\/problem\+json/);
      expect(response.body.type).toBe(`/problems/${type}`);
    }
    expect(await eventCount()).toBe(before);
  });
});

describe('property: whatever arrives, no 5xx and no event for a refused request', () => {
  const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
  /** Mostly plausible text with one awkward character somewhere: gets past the easy refusals. */
  const awkward = fc
    .tuple(
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.constantFrom(
        '\ud800',
        '\udfff',
        '\u0000',
        '\u0007',
        '\u007f',
        '\u0085',
        '\r',
        '\u202e',
        'e\u0301',
        '\u200b',
        '',
        ' ',
      ),
      fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
    )
    .map((parts) => parts.join(''));
  const text = fc.oneof(
    { arbitrary: awkward, weight: 4 },
    fc.string({ unit: utf16Unit, maxLength: 300 }), // lone surrogates, NUL and other controls
    fc.string({ unit: 'binary', maxLength: 300 }), // any code point, astral planes
    fc.string({ unit: 'grapheme', maxLength: 300 }), // emoji, combining marks, RTL
    fc.constantFrom('', ' ', '\u0000', 'e\u0301', '\u202eevil', '😀'.repeat(281), 'ok'),
  );
  const username = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_]{1,15}$/), text);
  /** A body shaped like the endpoint's own, with awkward values: reaches the inner rules. */
  const plausibleBodies: Record<string, fc.Arbitrary<object>> = {
    'POST /users': fc.record(
      { username, displayName: text, bio: text },
      { requiredKeys: ['username'] },
    ),
    'PATCH /users/:a': fc.record({ displayName: text, bio: text }, { requiredKeys: [] }),
    'POST /tweets': fc.record({ text }),
  };
  const anyFields = fc.record(
    { username, displayName: text, bio: text, text },
    { requiredKeys: [] },
  );
  const withExtra = fc
    .tuple(anyFields, fc.string({ maxLength: 10 }), fc.jsonValue())
    .map(([f, key, value]) => ({ ...f, [key]: value }));
  // Weighted towards requests that get past the outer checks, so the inner rules are exercised.
  const body = (endpoint: string) =>
    fc.oneof(
      {
        arbitrary: (plausibleBodies[endpoint] ?? anyFields).map((f) => JSON.stringify(f)),
        weight: 8,
      },
      fc.constant(undefined),
      anyFields.map((f) => JSON.stringify(f)),
      withExtra.map((f) => JSON.stringify(f)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 50 }), // rarely valid JSON
      fc.constant(JSON.stringify({ text: 'x'.repeat(20_000) })),
    );
  const contentType = fc.oneof(
    { arbitrary: fc.constant('application/json'), weight: 5 },
    fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'application/merge-patch+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-16',
      'multipart/form-data; boundary=x',
    ),
  );
  const idChoice = fc.oneof(
    { arbitrary: fc.constantFrom('self', 'other', 'tweet', 'otherTweet'), weight: 4 },
    fc.uuid().map((u) => `uuid:${u}`),
    fc.string({ maxLength: 40 }).map((s) => `raw:${encodeURIComponent(s)}`),
    fc.constantFrom('raw:%', 'raw:%ZZ', 'raw:..', 'raw:%00', 'raw:%2F'),
  );
  const auth = fc.oneof(
    { arbitrary: fc.constant('self'), weight: 5 },
    fc.constantFrom('other', 'none', 'garbage', 'forged', 'basic'),
  );
  const headerText = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 300,
  });
  const endpoint = fc.constantFrom(
    'POST /users',
    'PATCH /users/:a',
    'DELETE /users/:a',
    'PUT /users/:a/following/:b',
    'DELETE /users/:a/following/:b',
    'POST /tweets',
    'DELETE /tweets/:a',
  );
  const request = endpoint.chain((e) =>
    fc.record({
      endpoint: fc.constant(e),
      a: idChoice,
      b: idChoice,
      auth,
      contentType,
      body: body(e),
      idempotencyKey: fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 4 },
        fc.uuid(),
        headerText,
      ),
    }),
  );

  it('holds for every endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const self = await signUp(call);
        const other = await signUp(call);
        const tweetOf = async (u: { token: string }) =>
          (await call('POST', '/tweets', { token: u.token, body: { text: 'x' } })).body
            .id as string;
        const ids: Record<string, string> = {
          self: self.id,
          other: other.id,
          tweet: await tweetOf(self),
          otherTweet: await tweetOf(other),
        };
        const idOf = (choice: string) =>
          ids[choice] ?? (choice.startsWith('uuid:') ? choice.slice(5) : choice.slice(4));
        const [method, template] = r.endpoint.split(' ') as [string, string];
        const path = template.replace(':a', idOf(r.a)).replace(':b', idOf(r.b));
        const headers: Record<string, string> = {};
        const tokens: Record<string, string | undefined> = {
          self: `Bearer ${self.token}`,
          other: `Bearer ${other.token}`,
          none: undefined,
          garbage: 'Bearer mt_garbage',
          forged: `Bearer ${issueToken(self.id)}`,
          basic: `Basic ${self.token}`,
        };
        const authorization = tokens[r.auth];
        if (authorization) headers.authorization = authorization;
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;

        const before = await eventCount();
        const response = await fetch(`${fixture.service.baseUrl}${path}`, {
          method,
          headers,
          ...(r.body !== undefined ? { body: r.body } : {}),
        });
        const answer = await response.text();
        console.log(
          method,
          template,
          r.auth,
          r.contentType,
          response.status,
          answer.slice(0, 100),
          JSON.stringify(r.body)?.slice(0, 80),
        );
        expect(response.status, `${method} ${path} → ${answer}`).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(await eventCount(), `${method} ${path} refused yet appended`).toBe(before);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('unknown ids', () => {
  it('answers 404 for a well-formed id nobody has', async () => {
    const user = await signUp(call);
    expect((await call('DELETE', `/tweets/${uuidv7()}`, { token: user.token })).status).toBe(404);
  });
});
