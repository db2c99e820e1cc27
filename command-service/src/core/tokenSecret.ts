import { createHmac } from 'node:crypto';
import { loadServiceSecret } from '@tweeter/shared';

/**
 * The server secret keyed sign-up tokens are derived from: TOKEN_SECRET when set, otherwise one
 * generated on first start and shared by every instance and restart (see loadServiceSecret).
 */
export function loadTokenSecret(config: {
  DATABASE_URL: string;
  TOKEN_SECRET?: string | undefined;
}): Promise<Buffer> {
  return loadServiceSecret({
    databaseUrl: config.DATABASE_URL,
    service: 'command-service',
    name: 'token',
    configured: config.TOKEN_SECRET,
  });
}

/**
 * The 32-byte token secret of a keyed sign-up: derived rather than random so that a repeat of
 * the request can answer with the same token, which is itself never stored.
 */
export function derivedTokenSecret(serverSecret: Buffer, userId: string): Buffer {
  return createHmac('sha256', serverSecret).update(`token:${userId}`).digest();
}
