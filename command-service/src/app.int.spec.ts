import { describe, expect, it } from 'vitest';
import { signUp } from './testing/commandServiceUnderTest.ts';
import { useCommandService } from './testing/useCommandService.ts';

const fixture = useCommandService();
const { call } = fixture;

describe('operations', () => {
  it('serves /healthz, /readyz and /metrics with request and conflict metrics', async () => {
    // A request on a route with a parameter, whose template the metrics label it with.
    const user = await signUp(call);
    await call('PATCH', `/users/${user.id}`, { token: user.token, body: { bio: 'measured' } });
    expect((await call('GET', '/healthz')).status).toBe(200);
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ eventStore: 'ok', redis: 'ok' });
    const metrics = await fetch(`${fixture.service.baseUrl}/metrics`).then((r) => r.text());
    expect(metrics).toContain('http_request_duration_seconds_count');
    expect(metrics).toContain('http_request_duration_seconds_bucket');
    expect(metrics).toMatch(/route="\/users\/:id"/);
    expect(metrics).toContain('command_append_conflicts_total');
    expect(metrics).toContain('command_append_retries_total');
  });

  it('serves the OpenAPI document from the handlers’ schemas, and the docs', async () => {
    const doc = (await call('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
      components: {
        schemas: Record<
          string,
          { properties?: Record<string, unknown>; additionalProperties?: unknown }
        >;
      };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/users',
        '/users/{id}',
        '/users/{id}/following/{targetId}',
        '/tweets',
        '/tweets/{id}',
      ]),
    );
    expect(Object.keys(doc.paths['/users/{id}'] ?? {}).sort()).toEqual(['delete', 'patch']);
    expect(doc.components.schemas.PostTweetRequest?.additionalProperties).toBe(false);
    expect(JSON.stringify(doc.components.schemas.PostTweetRequest)).toMatch(/control characters/i);
    const docs = await fetch(`${fixture.service.baseUrl}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });
});
