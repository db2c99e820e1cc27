import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { allEvents, signUp } from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;
const eventCount = async () => (await allEvents(fixture.service.eventStore)).length;
const follow = (me: { id: string; token: string }, targetId: string) =>
  call('PUT', `/users/${me.id}/following/${targetId}`, { token: me.token });
const unfollow = (me: { id: string; token: string }, targetId: string) =>
  call('DELETE', `/users/${me.id}/following/${targetId}`, { token: me.token });

describe('DELETE /users/{id}/following/{targetId}', () => {
  it('unfollows: 204 with X-Event-Position; a repeat appends nothing', async () => {
    const [alice, bob] = [await signUp(call), await signUp(call)];
    await follow(alice, bob.id);
    const response = await unfollow(alice, bob.id);
    expect(response.status).toBe(204);
    expect(response.headers.get('x-event-position')).toMatch(/^[0-9a-f]{32}$/);
    const before = await eventCount();
    const again = await unfollow(alice, bob.id);
    expect(again.status).toBe(204);
    expect(await eventCount()).toBe(before);
    expect(
      (await fixture.service.eventStore.readStream(`follow-${alice.id}-${bob.id}`)).map(
        (e) => e.type,
      ),
    ).toEqual(['Followed', 'Unfollowed']);
  });

  it('answers 404 for an unknown target', async () => {
    const alice = await signUp(call);
    expect((await unfollow(alice, uuidv7())).status).toBe(404);
  });
});
