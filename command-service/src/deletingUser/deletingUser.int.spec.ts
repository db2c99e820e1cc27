import { userStreamId } from '@tweeter/shared';
import { describe, expect, it } from 'vitest';
import { allEvents, signUp } from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;

describe('DELETE /users/{id}', () => {
  it('deletes your own account: 204 with X-Event-Position and one UserDeleted', async () => {
    const user = await signUp(call);
    const response = await call('DELETE', `/users/${user.id}`, { token: user.token });
    expect(response.status).toBe(204);
    const position = response.headers.get('x-event-position');
    expect(position).toMatch(/^[0-9a-f]{32}$/);
    const stream = await fixture.service.eventStore.readStream(userStreamId(user.id));
    expect(stream.map((e) => [e.type, e.data])).toEqual([
      ['UserCreated', expect.objectContaining({ userId: user.id })],
      ['UserDeleted', { userId: user.id }],
    ]);
    expect(stream[1]).toMatchObject({ position, metadata: { actorId: user.id } });
  });

  it('answers 403 for another id (known or not) and 400 for a malformed one, appending nothing', async () => {
    const user = await signUp(call);
    const before = (await allEvents(fixture.service.eventStore)).length;
    const nobodys = await call('DELETE', '/users/01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80', {
      token: user.token,
    });
    // Only your own account: another id is 403 before it is anything else.
    expect(nobodys.status).toBe(403);
    expect((await call('DELETE', '/users/nobody', { token: user.token })).status).toBe(400);
    expect((await allEvents(fixture.service.eventStore)).length).toBe(before);
  });
});
