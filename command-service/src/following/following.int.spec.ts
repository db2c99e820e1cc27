import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { allEvents, signUp } from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;
const eventCount = async () => (await allEvents(fixture.service.eventStore)).length;
const follow = (me: { id: string; token: string }, targetId: string) =>
  call('PUT', `/users/${me.id}/following/${targetId}`, { token: me.token });

describe('PUT /users/{id}/following/{targetId}', () => {
  it('follows: 204 with X-Event-Position and one Followed event on the edge stream', async () => {
    const [alice, bob] = [await signUp(call), await signUp(call)];
    const response = await follow(alice, bob.id);
    expect(response.status).toBe(204);
    expect(response.headers.get('x-event-position')).toMatch(/^[0-9a-f]{32}$/);
    const edge = await fixture.service.eventStore.readStream(`follow-${alice.id}-${bob.id}`);
    expect(edge.map((e) => [e.type, e.data])).toEqual([
      ['Followed', { followerId: alice.id, followeeId: bob.id }],
    ]);
    expect(edge[0]?.metadata).toMatchObject({ schemaVersion: 1, actorId: alice.id });
  });

  it('is idempotent: a repeat answers 204 and appends nothing', async () => {
    const [alice, bob] = [await signUp(call), await signUp(call)];
    await follow(alice, bob.id);
    const before = await eventCount();
    const again = await follow(alice, bob.id);
    expect(again.status).toBe(204);
    expect(again.headers.get('x-event-position')).toBeNull();
    expect(await eventCount()).toBe(before);
  });

  it('refuses following yourself: 400', async () => {
    const alice = await signUp(call);
    const response = await follow(alice, alice.id);
    expect(response.status).toBe(400);
    expect(response.body.type).toBe('/problems/validation');
  });

  it('refuses an unknown or deleted target: 404, nothing appended', async () => {
    const [alice, bob] = [await signUp(call), await signUp(call)];
    await call('DELETE', `/users/${bob.id}`, { token: bob.token });
    const before = await eventCount();
    expect((await follow(alice, uuidv7())).status).toBe(404);
    const deleted = await follow(alice, bob.id);
    expect(deleted.status).toBe(404);
    expect(deleted.body.type).toBe('/problems/not-found');
    expect(await eventCount()).toBe(before);
  });

  it("refuses changing someone else's follows: 403", async () => {
    const [alice, bob, carol] = [await signUp(call), await signUp(call), await signUp(call)];
    const response = await call('PUT', `/users/${bob.id}/following/${carol.id}`, {
      token: alice.token,
    });
    expect(response.status).toBe(403);
    expect(
      (await call('DELETE', `/users/${bob.id}/following/${carol.id}`, { token: alice.token }))
        .status,
    ).toBe(403);
  });

  it('refuses malformed ids: 400', async () => {
    const alice = await signUp(call);
    expect((await follow(alice, 'bob')).status).toBe(400);
    expect(
      (await call('PUT', `/users/x/following/${alice.id}`, { token: alice.token })).status,
    ).toBe(400);
  });

  it('counts simultaneous identical follows once', async () => {
    const [alice, bob] = [await signUp(call), await signUp(call)];
    const responses = await Promise.all(Array.from({ length: 10 }, () => follow(alice, bob.id)));
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([204]));
    expect(
      await fixture.service.eventStore.readStream(`follow-${alice.id}-${bob.id}`),
    ).toHaveLength(1);
  });
});
