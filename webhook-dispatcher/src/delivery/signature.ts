import { createHmac, randomBytes } from 'node:crypto';
import { signingKey } from '../config.ts';

/** A new subscription secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The Standard Webhooks headers of one request. The signature is `v1,<base64 HMAC-SHA256>` over
 * `id.timestamp.body` keyed with the secret's decoded bytes, as the spec (and its reference
 * library, which the tests verify with) defines it. No secret: the request goes unsigned.
 */
export function webhookHeaders(
  messageId: string,
  timestamp: Date,
  body: string,
  secret: string | undefined,
): Record<string, string> {
  const seconds = String(Math.floor(timestamp.getTime() / 1000));
  const headers: Record<string, string> = {
    'webhook-id': messageId,
    'webhook-timestamp': seconds,
  };
  if (secret !== undefined) {
    const mac = createHmac('sha256', signingKey(secret))
      .update(`${messageId}.${seconds}.${body}`)
      .digest('base64');
    headers['webhook-signature'] = `v1,${mac}`;
  }
  return headers;
}
