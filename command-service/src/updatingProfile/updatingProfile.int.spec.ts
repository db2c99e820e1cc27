import { describe, expect, it } from 'vitest';
import { allEvents, signUp } from '../testing/commandServiceUnderTest.ts';
import { useCommandService } from '../testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;

describe('PATCH /users/{id}', () => {
  it('updates your own profile: 200, the user without token, X-Event-Position', async () => {
    const user = await signUp(call);
    const response = await call('PATCH', `/users/${user.id}`, {
      token: user.token,
      body: { displayName: 'Ada ✨', bio: '' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: user.id,
      username: user.username,
      displayName: 'Ada ✨',
      bio: '',
    });
    expect(response.body).not.toHaveProperty('token');
    expect(response.headers.get('x-event-position')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('appends nothing (and sends no position) when nothing changes', async () => {
    const user = await signUp(call);
    const before = (await allEvents(fixture.service.eventStore)).length;
    const response = await call('PATCH', `/users/${user.id}`, {
      token: user.token,
      body: { displayName: user.username },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-event-position')).toBeNull();
    expect((await allEvents(fixture.service.eventStore)).length).toBe(before);
  });

  it('decides on the profile as it is, with changes and tweets interleaved in the stream', async () => {
    const user = await signUp(call);
    const patch = (body: Record<string, string>) =>
      call('PATCH', `/users/${user.id}`, { token: user.token, body });
    const tweet = (text: string) => call('POST', '/tweets', { token: user.token, body: { text } });
    await patch({ bio: 'first bio' });
    await tweet('one');
    await patch({ displayName: 'First' });
    await tweet('two');
    await tweet('three');
    await patch({ displayName: 'Second' });
    await tweet('four');
    // Both fields as they are now (the bio from further back than the name): nothing to record.
    const same = await patch({ displayName: 'Second', bio: 'first bio' });
    expect([same.status, same.body.displayName, same.body.bio]).toEqual([
      200,
      'Second',
      'first bio',
    ]);
    expect(same.headers.get('x-event-position')).toBeNull();
    const changed = await patch({ bio: 'second bio' });
    expect([changed.body.displayName, changed.body.bio]).toEqual(['Second', 'second bio']);
    expect(changed.headers.get('x-event-position')).toMatch(/^[0-9a-f]{32}$/);
  });

  it("answers 403 for someone else's profile or account, and appends nothing", async () => {
    const user = await signUp(call);
    const other = await signUp(call);
    const before = (await allEvents(fixture.service.eventStore)).length;
    const patch = await call('PATCH', `/users/${other.id}`, {
      token: user.token,
      body: { bio: 'pwned' },
    });
    expect(patch.status).toBe(403);
    expect(patch.body.type).toBe('/problems/forbidden');
    expect((await call('DELETE', `/users/${other.id}`, { token: user.token })).status).toBe(403);
    expect((await allEvents(fixture.service.eventStore)).length).toBe(before);
  });

  it('answers 400 for a malformed id and for unknown fields', async () => {
    const user = await signUp(call);
    expect((await call('PATCH', '/users/not-a-uuid', { token: user.token, body: {} })).status).toBe(
      400,
    );
    const unknownField = await call('PATCH', `/users/${user.id}`, {
      token: user.token,
      body: { username: 'renamed' },
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.errors).toEqual([expect.objectContaining({ path: '(root)' })]);
  });

  it('accepts an id in upper case as the same user', async () => {
    const user = await signUp(call);
    const response = await call('PATCH', `/users/${user.id.toUpperCase()}`, {
      token: user.token,
      body: { bio: 'upper' },
    });
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(user.id);
  });
});
