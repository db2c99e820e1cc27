import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { appsFor } = require('../scripts/stack.config.cjs') as {
  appsFor: (
    env: Record<string, string>,
  ) => { name: string; env: Record<string, string>; node_args: string }[];
};

describe('npm start’s process file', () => {
  it('runs one process per service by default', () => {
    expect(appsFor({}).map((a) => a.name)).toEqual([
      'command',
      'query',
      'projector',
      'webhooks',
      'web',
    ]);
  });

  it('runs PROJECTOR_PROCESSES projectors, each after the first on a port of its own', () => {
    const apps = appsFor({ PROJECTOR_PROCESSES: '3', PROJECTOR_PORT: '4003' });
    const projectors = apps.filter((a) => a.name.startsWith('projector'));
    expect(projectors.map((a) => [a.name, a.env.PROJECTOR_PORT])).toEqual([
      ['projector', undefined],
      ['projector-2', '4103'],
      ['projector-3', '4203'],
    ]);
  });

  it('gives the projectors, and only them, the larger young generation', () => {
    const apps = appsFor({ PROJECTOR_PROCESSES: '2' });
    expect(apps.map((a) => [a.name, a.node_args])).toEqual([
      ['command', '--enable-source-maps'],
      ['query', '--enable-source-maps'],
      ['projector', '--enable-source-maps --max-semi-space-size=64'],
      ['projector-2', '--enable-source-maps --max-semi-space-size=64'],
      ['webhooks', '--enable-source-maps'],
      ['web', '--enable-source-maps'],
    ]);
  });
});
