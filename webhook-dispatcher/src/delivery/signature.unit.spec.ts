import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, webhookHeaders } from './signature.ts';

describe('Standard Webhooks signature', () => {
  it('verifies with the spec’s reference library', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'tweet.posted', timestamp: 'x', data: { text: 'é ✓' } });
    const headers = webhookHeaders('msg_1', new Date(), body, secret);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });

  it('matches the reference library’s own signature byte for byte', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const at = new Date(1_700_000_000_000);
    const body = '{"a":1}';
    expect(webhookHeaders('msg_p5jXN8AQM9LWM0D4loKWxJek', at, body, secret)).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1700000000',
      'webhook-signature': new Webhook(secret).sign('msg_p5jXN8AQM9LWM0D4loKWxJek', at, body),
    });
  });

  it('sends no signature without a secret', () => {
    expect(webhookHeaders('id', new Date(0), '{}', undefined)).toEqual({
      'webhook-id': 'id',
      'webhook-timestamp': '0',
    });
  });
});
