import { describe, expect, it } from 'vitest';
import { idempotencyKeyHeader, requestHash } from './idempotency.ts';

describe('request hash', () => {
  it('ignores key order and absent fields', () =>
    expect(requestHash({ a: 1, b: 'x', c: undefined })).toBe(requestHash({ b: 'x', a: 1 })));
  it('differs when a value differs', () =>
    expect(requestHash({ text: 'a' })).not.toBe(requestHash({ text: 'b' })));
});

describe('Idempotency-Key header', () => {
  it('is 1–255 printable ASCII without spaces', () => {
    expect(idempotencyKeyHeader.safeParse('abc-123_XYZ').success).toBe(true);
    expect(idempotencyKeyHeader.safeParse('').success).toBe(false);
    expect(idempotencyKeyHeader.safeParse('a b').success).toBe(false);
    expect(idempotencyKeyHeader.safeParse('x'.repeat(256)).success).toBe(false);
  });
});
