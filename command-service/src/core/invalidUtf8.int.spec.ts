import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { allEvents, countEvents, signUp } from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

/**
 * A body that is not valid UTF-8 is refused (400, /problems/validation), never decoded with U+FFFD
 * in place of the bad bytes and stored as if the client had sent that.
 */
const fixture = useCommandService();
let user: { id: string; token: string };

beforeAll(async () => {
  user = await signUp(fixture.call);
});

/** `{"<field>":"a<bytes>b"}` as raw bytes: the bad sequence inside a JSON string value. */
const bodyWith = (field: string, bytes: number[]) =>
  Buffer.concat([Buffer.from(`{"${field}":"a`), Buffer.from(bytes), Buffer.from('b"}')]);

async function post(
  path: string,
  body: Buffer,
  headers: Record<string, string | undefined> = {},
): Promise<{ status: number; type: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${fixture.service.baseUrl}${path}`, {
    method: 'POST',
    headers: Object.fromEntries(
      Object.entries({
        'content-type': 'application/json',
        authorization: `Bearer ${user.token}`,
        ...headers,
      }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

const invalid: [string, number[]][] = [
  ['bytes that are never UTF-8 (FF FE)', [0xff, 0xfe]],
  ['an overlong "/" (C0 AF)', [0xc0, 0xaf]],
  ['a CESU-8 surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
  ['a lone continuation byte (80)', [0x80]],
  ['a sequence cut short (E2 82)', [0xe2, 0x82]],
  ['beyond U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
];

describe('a body that is not valid UTF-8', () => {
  it.each(invalid)('with %s is a 400 validation problem and appends nothing', async (_, bytes) => {
    const before = await countEvents(fixture.service.eventStore);
    const answers = [
      await post('/tweets', bodyWith('text', bytes)),
      await post('/tweets', gzipSync(bodyWith('text', bytes)), { 'content-encoding': 'gzip' }),
      await post('/users', bodyWith('username', bytes), { authorization: undefined }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(answer.body).toEqual({
        type: '/problems/validation',
        title: 'Invalid request',
        status: 400,
        detail: 'The body is not valid UTF-8',
      });
    }
    expect(await countEvents(fixture.service.eventStore)).toBe(before);
  });

  it('in a charset other than UTF-8 is a 415, even when its bytes are valid there', async () => {
    const before = await countEvents(fixture.service.eventStore);
    const utf16 = await post('/tweets', Buffer.from('{"text":"hi"}', 'utf16le'), {
      'content-type': 'application/json; charset=utf-16le',
    });
    expect(utf16.status).toBe(415);
    expect(utf16.body.type).toBe('/problems/unsupported-media-type');
    expect(await countEvents(fixture.service.eventStore)).toBe(before);
  });
});

describe('valid UTF-8', () => {
  it('is accepted and stored as sent: accents, emoji, CJK, a plane-16 code point', async () => {
    for (const [text, contentType] of [
      ['é and e\u0301', 'application/json'],
      ['😀 👩‍💻 🇫🇷', 'application/json; charset=UTF-8'],
      ['日本語 한국어 עברית', 'application/json; charset=utf-8'],
      ['\u{10FFFD}', 'application/json'],
    ] as const) {
      const answer = await post('/tweets', Buffer.from(JSON.stringify({ text }), 'utf8'), {
        'content-type': contentType,
      });
      expect(answer.status, text).toBe(202);
      const stored = (await allEvents(fixture.service.eventStore)).find(
        (e) =>
          e.type === 'TweetPosted' && (e.data as { tweetId?: unknown }).tweetId === answer.body.id,
      );
      // The service stores text NFC-normalised; nothing else about it changes.
      expect((stored?.data as { text?: unknown } | undefined)?.text).toBe(text.normalize('NFC'));
      expect(answer.body.text).toBe(text.normalize('NFC'));
    }
  });
});
