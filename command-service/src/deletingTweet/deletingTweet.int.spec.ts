import { randomUUID } from 'node:crypto';
import { userStreamId } from '@tweeter/shared';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { allEvents, signUp } from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;
const eventCount = async () => (await allEvents(fixture.service.eventStore)).length;

describe('DELETE /tweets/{id}', () => {
  it('lets the author delete: 204 with X-Event-Position; again: 404', async () => {
    const alice = await signUp(call);
    const { body } = await call('POST', '/tweets', { token: alice.token, body: { text: 'oops' } });
    const response = await call('DELETE', `/tweets/${String(body.id)}`, { token: alice.token });
    expect(response.status).toBe(204);
    expect(response.headers.get('x-event-position')).toMatch(/^[0-9a-f]{32}$/);
    expect(
      (await call('DELETE', `/tweets/${String(body.id)}`, { token: alice.token })).status,
    ).toBe(404);
  });

  it('refuses anyone but the author: 403, nothing appended', async () => {
    const [alice, bob] = [await signUp(call), await signUp(call)];
    const { body } = await call('POST', '/tweets', { token: alice.token, body: { text: 'mine' } });
    const before = await eventCount();
    const response = await call('DELETE', `/tweets/${String(body.id)}`, { token: bob.token });
    expect(response.status).toBe(403);
    expect(response.body.type).toBe('/problems/forbidden');
    expect(await eventCount()).toBe(before);
    // Once deleted, it is 404 for everyone, as for a tweet that never was.
    await call('DELETE', `/tweets/${String(body.id)}`, { token: alice.token });
    const after = await call('DELETE', `/tweets/${String(body.id)}`, { token: bob.token });
    expect(after.status).toBe(404);
  });

  it('finds one tweet among the author’s others, and deletes only it', async () => {
    const alice = await signUp(call);
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three'])
      ids.push(
        String((await call('POST', '/tweets', { token: alice.token, body: { text } })).body.id),
      );
    expect((await call('DELETE', `/tweets/${ids[0]}`, { token: alice.token })).status).toBe(204);
    expect((await call('DELETE', `/tweets/${ids[0]}`, { token: alice.token })).status).toBe(404);
    expect((await call('DELETE', `/tweets/${ids[2]}`, { token: alice.token })).status).toBe(204);
    const stream = await fixture.service.eventStore.readStream(userStreamId(alice.id));
    expect(stream.map((e) => [e.type, (e.data as { tweetId?: string }).tweetId])).toEqual([
      ['UserCreated', undefined],
      ['TweetPosted', ids[0]],
      ['TweetPosted', ids[1]],
      ['TweetPosted', ids[2]],
      ['TweetDeleted', ids[0]],
      ['TweetDeleted', ids[2]],
    ]);
  });

  it('deletes a tweet whose author record is missing (a crash between the two appends)', async () => {
    const alice = await signUp(call);
    const tweetId = uuidv7();
    const [head] = await fixture.service.eventStore.readStream(userStreamId(alice.id), {
      direction: 'backwards',
      maxCount: 1,
    });
    const data = {
      tweetId,
      authorId: alice.id,
      text: 'cut off',
      createdAt: new Date().toISOString(),
    };
    await fixture.service.eventStore.append(
      userStreamId(alice.id),
      [{ id: randomUUID(), type: 'TweetPosted', data, metadata: null }],
      { expectedRevision: head!.revision },
    );
    expect((await call('DELETE', `/tweets/${tweetId}`, { token: alice.token })).status).toBe(204);
    expect((await call('DELETE', `/tweets/${tweetId}`, { token: alice.token })).status).toBe(404);
  });

  it('deletes a tweet kept in its own stream (posted before tweets moved to their authors)', async () => {
    const [alice, bob] = [await signUp(call), await signUp(call)];
    const tweetId = uuidv7();
    const data = { tweetId, authorId: alice.id, text: 'old', createdAt: new Date().toISOString() };
    await fixture.service.eventStore.append(
      `tweet-${tweetId}`,
      [{ id: randomUUID(), type: 'TweetPosted', data, metadata: null }],
      { expectedRevision: 'no_stream' },
    );
    expect((await call('DELETE', `/tweets/${tweetId}`, { token: bob.token })).status).toBe(403);
    expect((await call('DELETE', `/tweets/${tweetId}`, { token: alice.token })).status).toBe(204);
    expect((await call('DELETE', `/tweets/${tweetId}`, { token: alice.token })).status).toBe(404);
    const own = await fixture.service.eventStore.readStream(`tweet-${tweetId}`);
    expect(own.map((e) => e.type)).toEqual(['TweetPosted', 'TweetDeleted']);
  });

  it('answers 404 for an unknown tweet and 400 for a malformed id', async () => {
    const alice = await signUp(call);
    expect((await call('DELETE', `/tweets/${uuidv7()}`, { token: alice.token })).status).toBe(404);
    expect((await call('DELETE', `/tweets/${randomUUID()}`, { token: alice.token })).status).toBe(
      404,
    );
    expect((await call('DELETE', '/tweets/123', { token: alice.token })).status).toBe(400);
  });
});
