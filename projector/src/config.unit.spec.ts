import { ConfigError } from '@tweeter/shared';
import { describe, expect, it } from 'vitest';
import { loadProjectorConfig } from './config.ts';
import { projectionNames } from './registry.ts';

describe('projector configuration', () => {
  it('runs every projection of the registry by default', () => {
    const config = loadProjectorConfig({});
    expect(config.PROJECTOR_PROJECTIONS).toEqual(['read-model', 'timelines', 'integration-events']);
    expect(config.PROJECTOR_PROJECTIONS).toEqual(projectionNames);
    expect(config.PROJECTOR_PORT).toBe(3003);
    expect(config.PROJECTOR_URL).toBeUndefined();
    expect(config.ADMIN_LOG_LEVEL).toBe('silent');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads PROJECTOR_PROJECTIONS as a comma-separated subset; empty means all', () => {
    const run = (value: string) =>
      loadProjectorConfig({ PROJECTOR_PROJECTIONS: value }).PROJECTOR_PROJECTIONS;
    expect(run('timelines')).toEqual(['timelines']);
    expect(run(' integration-events , read-model,')).toEqual(['integration-events', 'read-model']);
    expect(run('timelines,timelines')).toEqual(['timelines']);
    expect(run('')).toEqual(projectionNames);
  });

  it('refuses unknown projection names, listing the valid ones', () => {
    let error: unknown;
    try {
      loadProjectorConfig({ PROJECTOR_PROJECTIONS: 'timelines,search,feeds' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PROJECTOR_PROJECTIONS: names unknown projections: search, feeds');
    expect(message).toContain('the projections are read-model, timelines, integration-events');
    expect(message).toContain('(got "timelines,search,feeds")');
    expect(() => loadProjectorConfig({ PROJECTOR_PROJECTIONS: ' , ' })).toThrow(
      /PROJECTOR_PROJECTIONS: names no projection/,
    );
  });

  it('checks the admin CLI’s variables and the shared ones together', () => {
    expect(loadProjectorConfig({ PROJECTOR_URL: 'http://10.0.0.5:3003' }).PROJECTOR_URL).toBe(
      'http://10.0.0.5:3003',
    );
    let message = '';
    try {
      loadProjectorConfig({ PROJECTOR_URL: 'ftp://x', ADMIN_LOG_LEVEL: 'loud', QUERY_PORT: 'x' });
    } catch (e) {
      message = (e as Error).message;
    }
    for (const name of ['PROJECTOR_URL', 'ADMIN_LOG_LEVEL', 'QUERY_PORT'])
      expect(message).toContain(name);
  });
});
