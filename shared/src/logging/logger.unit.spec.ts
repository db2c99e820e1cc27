import { Readable, Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { issueToken } from '../auth/tokens.ts';
import { containsCredential, loggerOptions, scrubCredentials } from './logger.ts';

/** A logger with the product's options writing into memory; `text()` is everything written. */
function memoryLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  process.env.LOG_FORMAT = 'json'; // a stream destination, never the pretty transport
  const logger = pino(loggerOptions('test', 'info'), sink);
  return { logger, text: () => lines.join(''), lines };
}

const token = issueToken('01a20e09-0b3a-77f3-b09c-323b87209456');
const secret = token.slice('mt_'.length + 32 + 1);

/** The error express.json() really produces for `body` (body-parser's, with `body` and `type`). */
function bodyParserError(body: string) {
  const req = Readable.from([Buffer.from(body)]) as Readable & {
    headers: Record<string, string>;
    method: string;
  };
  req.headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  };
  req.method = 'POST';
  return new Promise<Error>((resolve, reject) => {
    const parse = express.json() as unknown as (
      req: unknown,
      res: unknown,
      next: (error?: unknown) => void,
    ) => void;
    parse(req, {}, (error?: unknown) =>
      error instanceof Error ? resolve(error) : reject(new Error('the body was accepted')),
    );
  });
}

describe('logger', () => {
  it('never writes tokens, secrets or authorization headers', () => {
    const { logger, text } = memoryLogger();
    logger.info(
      {
        token: 'mt_abc',
        user: { token: 'mt_def' },
        secret: 'whsec_x',
        req: { headers: { authorization: 'Bearer mt_ghi' } },
      },
      'hello',
    );
    const line = text();
    expect(line).toContain('hello');
    for (const leaked of ['mt_abc', 'mt_def', 'whsec_x', 'mt_ghi'])
      expect(line).not.toContain(leaked);
    expect(line).toContain('[redacted]');
  });

  it('redacts every credential-carrying header and field by name', () => {
    const { logger, text } = memoryLogger();
    const headers = {
      authorization: 'A1',
      'proxy-authorization': 'A2',
      cookie: 'A3',
      'set-cookie': 'A4',
      'x-api-key': 'A5',
      accept: 'application/json',
    };
    logger.info(
      {
        req: { headers },
        headers,
        access_token: 'A6',
        accessToken: 'A7',
        apiKey: 'A8',
        api_key: 'A9',
        password: 'B1',
        body: { password: 'B2', access_token: 'B3' },
      },
      'fields',
    );
    const line = text();
    for (let i = 1; i <= 9; i++) expect(line).not.toContain(`"A${i}"`);
    for (let i = 1; i <= 3; i++) expect(line).not.toContain(`"B${i}"`);
    expect(line).toContain('application/json'); // the rest is still there
  });

  it('replaces a token wherever it is: message, unknown fields, truncated, encoded', () => {
    const { logger, text } = memoryLogger();
    logger.info({ note: `GET /users/${token}?x=1` }, `got ${token}junk`);
    logger.warn({ nested: { deep: { value: [`Bearer ${token}`] } } }, 'nested');
    logger.info(`half a secret: ${token.slice(0, 50)}`);
    logger.info(`encoded: ${token.replace(/_/g, '%5F')}`);
    logger.info({ signing: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, 'webhook');
    const out = text();
    expect(out).not.toContain(secret);
    expect(out).not.toContain(secret.slice(0, 12));
    expect(out).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(out.match(/\[REDACTED\]/g)).toHaveLength(6);
    for (const line of out.trim().split('\n'))
      expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('knows the product token format (auth/tokens.ts) and leaves other text alone', () => {
    expect(containsCredential(issueToken('00000000-0000-7000-8000-000000000000'))).toBe(true);
    expect(containsCredential(`x=${token}&y`)).toBe(true);
    expect(containsCredential(`x=${token}`)).toBe(true); // twice in a row: no regex state
    for (const harmless of [
      'mt_garbage',
      '01a20e09-0b3a-77f3-b09c-323b87209456',
      'mt_01a20e090b3a77f3b09c323b87209456', // a user id with the prefix, no secret
      '/users/01a20e09-0b3a-77f3-b09c-323b87209456/timeline?limit=5',
    ]) {
      expect(containsCredential(harmless), harmless).toBe(false);
      expect(scrubCredentials(harmless)).toBe(harmless);
    }
  });

  it("writes no part of a request body that body-parser's errors carry", async () => {
    const cases = [
      await bodyParserError(`{"token": ${token}}`), // JSON.parse quotes the text it choked on
      await bodyParserError(`${secret} ${token}`), // body-parser's own strict-mode error
      await bodyParserError(`{"token": "${token}",`),
      await bodyParserError(`"${secret}"`), // strict mode: objects and arrays only
    ];
    for (const error of cases) {
      expect(error).toHaveProperty('body'); // the fixture is the real thing
      const { logger, text } = memoryLogger();
      logger.error({ err: error }, 'with err');
      logger.error(error); // the error's message becomes the line's message
      logger.error({ err: new Error('wrapped', { cause: error }) }, 'as a cause');
      logger.error({ err: new AggregateError([error], 'several') }, 'aggregated');
      const out = text();
      for (let i = 0; i + 8 <= secret.length; i++)
        expect(out, `fragment ${i} of the secret`).not.toContain(secret.slice(i, i + 8));
      expect(out).not.toContain('"body"');
      // What is left still says what went wrong, and where.
      const line = JSON.parse(out.split('\n')[0]!) as { err: Record<string, string> };
      expect(line.err.type).toMatch(/Error$/);
      expect(line.err.message).toMatch(
        /^\[message withheld: it may quote the request \([\w.]+\)\]$/,
      );
      expect(line.err.stack).toMatch(/\n\s+at /);
    }
  });

  it('keeps ordinary errors as they are', () => {
    const { logger, text } = memoryLogger();
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    logger.error({ err: new Error('query failed', { cause: error }) }, 'boom');
    const line = JSON.parse(text()) as { err: Record<string, string> };
    expect(line.err.message).toBe('query failed: connect ECONNREFUSED 127.0.0.1:5432');
    expect(line.err.stack).toContain('caused by: Error: connect ECONNREFUSED');
  });
});
