import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { isPublicAddress } from './addressPolicy.ts';

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
 * The HTTP client of every outgoing webhook: node:http(s) through agents that check, at connect
 * time, the address each connection goes to with isPublicAddress (the one rule, addressPolicy.ts)
 * — after DNS, so a rebinding name cannot slip a private address past the registration check.
 * Keep-alive agents reuse connections to busy receivers. Redirects are never followed (node:http
 * does not), so a 3xx is just a failure.
 */
export class WebhookClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: WebhookClientOptions) {
    const agentOptions = { keepAlive: true, maxSockets: 256 };
    if (options.allowPrivateNetworks) {
      this.httpAgent = new http.Agent(agentOptions);
      this.httpsAgent = new https.Agent(agentOptions);
    } else {
      this.httpAgent = new GuardedHttpAgent(agentOptions);
      this.httpsAgent = new GuardedHttpsAgent(agentOptions);
    }
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

type ConnectCallback = (error: Error | null, socket: Duplex) => void;

/**
 * http.Agent refusing connections to non-public addresses. A literal IP host is checked here (net
 * skips the lookup for one); a name is checked in the lookup net calls, on every address it
 * resolved to (one, or all of them when net races families), before any connect.
 */
export class GuardedHttpAgent extends http.Agent {
  override createConnection(options: http.ClientRequestArgs, callback?: ConnectCallback) {
    const refused = refuseLiteral(options);
    if (refused) return failedConnection(refused, callback);
    return super.createConnection({ ...options, lookup: guardedLookup(options.lookup) }, callback);
  }
}

/** https.Agent with the same guard as GuardedHttpAgent. */
export class GuardedHttpsAgent extends https.Agent {
  override createConnection(options: https.RequestOptions, callback?: ConnectCallback) {
    const refused = refuseLiteral(options);
    if (refused) return failedConnection(refused, callback);
    return super.createConnection({ ...options, lookup: guardedLookup(options.lookup) }, callback);
  }
}

function notAllowed(address: string, host: string): Error {
  const error = new Error(
    `connecting to ${address} (${host}) is not allowed: not a public address`,
  );
  return Object.assign(error, { code: 'ERR_WEBHOOK_TARGET_NOT_PUBLIC' });
}

function refuseLiteral(options: http.ClientRequestArgs): Error | undefined {
  const host = options.host ?? options.hostname ?? '';
  if (net.isIP(host) !== 0 && !isPublicAddress(host)) return notAllowed(host, host);
  return undefined;
}

function guardedLookup(base: net.LookupFunction = dns.lookup): net.LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, options, (error, address, family) => {
      if (error) return callback(error, address, family);
      const addresses = typeof address === 'string' ? [address] : address.map((a) => a.address);
      const refused = addresses.find((a) => !isPublicAddress(a));
      if (refused !== undefined) return callback(notAllowed(refused, hostname), '', family);
      callback(null, address, family);
    });
  };
}

/** Hands the agent the error (it fails the request with it); nothing was connected. */
function failedConnection(error: Error, callback?: ConnectCallback): net.Socket {
  const socket = new net.Socket();
  if (callback) callback(error, socket);
  else socket.destroy(error);
  return socket;
}
