import { issueToken } from '@tweeter/shared';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { allEvents, signUp } from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate for a missing, malformed, forged or unknown token', async () => {
    const user = await signUp(call);
    const forged = issueToken(user.id); // right user id, wrong secret
    const unknown = issueToken(uuidv7());
    const before = (await allEvents(fixture.service.eventStore)).length;
    for (const authorization of [
      undefined,
      'Bearer',
      'Bearer nonsense',
      `Basic ${user.token}`,
      `Bearer ${forged}`,
      `Bearer ${unknown}`,
      `Bearer ${user.token}x`,
    ]) {
      const response = await call('POST', '/tweets', {
        body: { text: 'hi' },
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(response.status, authorization).toBe(401);
      expect(response.body.type).toBe('/problems/unauthorized');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await allEvents(fixture.service.eventStore)).length).toBe(before);
  });

  it('kills the token the moment its user is deleted: a deleted user can do nothing', async () => {
    const user = await signUp(call);
    const other = await signUp(call);
    expect((await call('DELETE', `/users/${user.id}`, { token: user.token })).status).toBe(204);
    const before = (await allEvents(fixture.service.eventStore)).length;
    const attempts = [
      call('POST', '/tweets', { token: user.token, body: { text: 'ghost' } }),
      call('PATCH', `/users/${user.id}`, { token: user.token, body: { bio: 'x' } }),
      call('DELETE', `/users/${user.id}`, { token: user.token }),
      call('PUT', `/users/${user.id}/following/${other.id}`, { token: user.token }),
      call('DELETE', `/users/${user.id}/following/${other.id}`, { token: user.token }),
      call('DELETE', `/tweets/${uuidv7()}`, { token: user.token }),
    ];
    for (const response of await Promise.all(attempts)) expect(response.status).toBe(401);
    expect((await allEvents(fixture.service.eventStore)).length).toBe(before);
  });
});
