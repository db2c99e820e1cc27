import { describe, expect, it } from 'vitest';
import { loadDispatcherConfig } from './config.ts';

describe('dispatcher configuration', () => {
  it("reads digests from its own stack's query service: API_URL follows QUERY_PORT", () => {
    expect(loadDispatcherConfig({}).API_URL).toBe('http://127.0.0.1:3002');
    expect(loadDispatcherConfig({ QUERY_PORT: '4102' }).API_URL).toBe('http://127.0.0.1:4102');
  });

  it('takes API_URL as given when it is set', () => {
    const config = loadDispatcherConfig({ QUERY_PORT: '4102', API_URL: 'http://query:3002' });
    expect(config.API_URL).toBe('http://query:3002');
  });
});
