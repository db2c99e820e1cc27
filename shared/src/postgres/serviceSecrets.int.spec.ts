import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/index.ts';
import { loadServiceSecret } from './serviceSecrets.ts';

describe('service secrets', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  it('are generated once and agreed on by every instance and restart', async () => {
    const load = () =>
      loadServiceSecret({ databaseUrl: database.url, service: 'query-service', name: 'cursor' });
    const [a, b, c] = await Promise.all([load(), load(), load()]);
    expect(a.length).toBe(32);
    expect(b.equals(a)).toBe(true);
    expect(c.equals(a)).toBe(true);
    expect((await load()).equals(a)).toBe(true);
    const other = await loadServiceSecret({
      databaseUrl: database.url,
      service: 'query-service',
      name: 'other',
    });
    expect(other.equals(a)).toBe(false);
  });

  it('use the configured value when there is one', async () => {
    const secret = await loadServiceSecret({
      databaseUrl: database.url,
      service: 'query-service',
      name: 'cursor',
      configured: 'x'.repeat(40),
    });
    expect(secret.toString()).toBe('x'.repeat(40));
  });
});
