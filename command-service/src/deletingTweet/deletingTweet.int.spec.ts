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
  });

  it('answers 404 for an unknown tweet and 400 for a malformed id', async () => {
    const alice = await signUp(call);
    expect((await call('DELETE', `/tweets/${uuidv7()}`, { token: alice.token })).status).toBe(404);
    expect((await call('DELETE', '/tweets/123', { token: alice.token })).status).toBe(400);
  });
});
