import { describe, expect, it } from 'vitest';
import { isDependencyFailure } from './app.ts';

describe('isDependencyFailure', () => {
  it('takes a Redis Cluster in the middle of a failover for a dependency outage (503)', () => {
    for (const message of [
      'MOVED 5461 127.0.0.1:7002',
      'ASK 5461 127.0.0.1:7002',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      'CLUSTERDOWN The cluster is down',
      'MASTERDOWN Link with MASTER is down',
      'LOADING Redis is loading the dataset in memory',
      'Too many Cluster redirections. Last error: Error: Connection is closed.',
    ])
      expect(
        isDependencyFailure(Object.assign(new Error(message), { name: 'ReplyError' })),
        message,
      ).toBe(true);
    expect(
      isDependencyFailure(Object.assign(new Error('x'), { name: 'ClusterAllFailedError' })),
    ).toBe(true);
  });

  it('takes a Redis that cannot serve for now for a dependency outage (503)', () => {
    for (const message of [
      'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
      "OOM command not allowed when used memory > 'maxmemory'.",
      "READONLY You can't write against a read only replica.",
    ])
      expect(
        isDependencyFailure(Object.assign(new Error(message), { name: 'ReplyError' })),
        message,
      ).toBe(true);
  });

  it('leaves other errors alone (500)', () => {
    expect(isDependencyFailure(new Error('WRONGTYPE Operation against a key'))).toBe(false);
    expect(isDependencyFailure(new Error('BUSYKEY Target key name already exists.'))).toBe(false);
    expect(isDependencyFailure(new TypeError('cannot read properties of undefined'))).toBe(false);
  });
});
