import http from 'node:http';
import https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/** What one POST to a receiver came to. */
export type SendOutcome =
  | { kind: 'response'; statusCode: number; retryAfter: string | undefined; durationMs: number }
  | { kind: 'error'; error: string; durationMs: number };

export interface WebhookClientOptions {
  /** WEBHOOK_TIMEOUT_MS: the whole request, connect to last response byte. */
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS. */
  allowPrivateNetworks: boolean;
}

/**
 * The HTTP client of every outgoing webhook: node:http(s) through request-filtering-agent, which
 * checks the address a name resolved to at connect time — after DNS, so a rebinding name cannot
 * slip a private address past the registration check. Keep-alive agents reuse connections to
 * busy receivers. Redirects are never followed (node:http does not), so a 3xx is just a failure.
 */
export class WebhookClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: WebhookClientOptions) {
    const filter = {
      allowPrivateIPAddress: options.allowPrivateNetworks,
      allowMetaIPAddress: options.allowPrivateNetworks,
      keepAlive: true,
      maxSockets: 256,
    };
    this.httpAgent = new RequestFilteringHttpAgent(filter);
    this.httpsAgent = new RequestFilteringHttpsAgent(filter);
  }

  post(url: string, headers: Record<string, string>, body: string): Promise<SendOutcome> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: SendOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        settle({ kind: 'error', error: 'invalid URL', durationMs: 0 });
        return;
      }
      const isHttps = target.protocol === 'https:';
      const request = (isHttps ? https : http).request(target, {
        method: 'POST',
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'MiniTweeter-Webhooks/1',
          ...headers,
        },
      });
      const timer = setTimeout(() => {
        request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      request.on('response', (response) => {
        const retryAfter = response.headers['retry-after'];
        // The body does not matter; drain it so the connection can be reused.
        response.resume();
        response.on('end', () =>
          settle({
            kind: 'response',
            statusCode: response.statusCode ?? 0,
            retryAfter,
            durationMs: elapsed(),
          }),
        );
        response.on('error', (error) =>
          settle({ kind: 'error', error: shortError(error), durationMs: elapsed() }),
        );
      });
      request.on('error', (error) =>
        settle({ kind: 'error', error: shortError(error), durationMs: elapsed() }),
      );
      request.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** Errors are stored and shown: one line, bounded. */
export function shortError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const text = [e.code, e.message].filter(Boolean).join(': ') || String(error);
  return text.replace(/\s+/g, ' ').slice(0, 300);
}
