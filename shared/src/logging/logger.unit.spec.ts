import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from './logger.ts';

describe('logger', () => {
  it('never writes tokens, secrets or authorization headers', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    process.env.LOG_FORMAT = 'json'; // a stream destination, never the pretty transport
    const logger = pino(loggerOptions('test', 'info'), sink);
    logger.info(
      {
        token: 'mt_abc',
        user: { token: 'mt_def' },
        secret: 'whsec_x',
        req: { headers: { authorization: 'Bearer mt_ghi' } },
      },
      'hello',
    );
    const line = lines.join('');
    expect(line).toContain('hello');
    for (const leaked of ['mt_abc', 'mt_def', 'whsec_x', 'mt_ghi'])
      expect(line).not.toContain(leaked);
    expect(line).toContain('[redacted]');
  });
});
