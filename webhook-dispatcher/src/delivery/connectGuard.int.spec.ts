import http from 'node:http';
import net, { type AddressInfo, type LookupFunction } from 'node:net';
import { closeServer, listen } from '@tweeter/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GuardedHttpAgent, WebhookClient, type SendOutcome } from './webhookClient.ts';

// The connect-time half of the SSRF guard: every delivery attempt goes through WebhookClient, so
// these attempts skip registration (checkWebhookTarget) entirely and must still be refused — by
// the agent, before any socket connects.

let server: http.Server;
let port: number;
let connections = 0;
let requests = 0;
const guarded = new WebhookClient({ timeoutMs: 5_000, allowPrivateNetworks: false });
const open = new WebhookClient({ timeoutMs: 5_000, allowPrivateNetworks: true });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  server.on('connection', () => connections++);
  await listen(server, 0); // `::`, dual-stack: 127.0.0.1 and ::1 both reach it
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  guarded.close();
  open.close();
  await closeServer(server);
});

afterEach(() => {
  vi.restoreAllMocks();
});

// "not allowed", the wording docs/webhooks.md promises for a refused attempt.
const refusal = { kind: 'error', error: expect.stringMatching(/is not allowed/) as unknown };

describe('connect-time SSRF guard', () => {
  it.each([
    '[::127.0.0.1]', // the reported IPv4-compatible forms
    '[::169.254.169.254]',
    '[::10.0.0.1]',
    '[::7f00:1]',
    '[0:0:0:0:0:0:127.0.0.1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[::1]',
    '127.0.0.1',
    '[fd00:ec2::254]',
    '169.254.169.254',
  ])('refuses http://%s:<port>/ before connecting', async (host) => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    const before = { connections, requests };
    const outcome = await guarded.post(`http://${host}:${port}/hook`, {}, '{}');
    expect(outcome).toMatchObject(refusal);
    expect(connect).not.toHaveBeenCalled();
    expect({ connections, requests }).toEqual(before);
  });

  it('refuses a name whose lookup returns a non-public address (localhost, real DNS)', async () => {
    const before = { connections, requests };
    const outcome = await guarded.post(`http://localhost:${port}/hook`, {}, '{}');
    expect(outcome).toMatchObject(refusal);
    expect({ connections, requests }).toEqual(before);
  });

  it.each(['::127.0.0.1', '::7f00:1', '::ffff:127.0.0.1', '127.0.0.1', '::1'])(
    'refuses a name (a rebinding one) resolving to %s, single and all-address lookups',
    async (address) => {
      const family = net.isIP(address);
      const shapes: string[] = [];
      const lookup = ((_host, options, callback) => {
        shapes.push(options.all ? 'all' : 'one');
        if (options.all) callback(null, [{ address, family }]);
        else callback(null, address, family);
      }) as LookupFunction;
      const connect = vi.spyOn(net.Socket.prototype, 'connect');
      const before = { connections, requests };
      // autoSelectFamily (happy eyeballs) makes net ask for every address, otherwise for one.
      for (const autoSelectFamily of [true, false]) {
        const agent = new GuardedHttpAgent({ autoSelectFamily });
        const error = await new Promise<Error>((resolve, reject) => {
          const request = http.request(`http://rebind.example:${port}/hook`, {
            method: 'POST',
            agent,
            lookup,
          });
          request.on('error', resolve);
          request.on('response', () => reject(new Error('the request was answered')));
          request.end('{}');
        });
        agent.destroy();
        expect(error.message).toMatch(/is not allowed: not a public address/);
        expect((error as NodeJS.ErrnoException).code).toBe('ERR_WEBHOOK_TARGET_NOT_PUBLIC');
      }
      expect(shapes).toEqual(['all', 'one']);
      // net's own connect runs (the lookup happens inside it), but no connection reached the server.
      expect(connect).toHaveBeenCalled();
      expect({ connections, requests }).toEqual(before);
    },
  );

  it('lets the same local targets through with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (control)', async () => {
    for (const host of ['127.0.0.1', '[::1]', 'localhost']) {
      const outcome: SendOutcome = await open.post(`http://${host}:${port}/hook`, {}, '{}');
      expect(outcome, host).toMatchObject({ kind: 'response', statusCode: 204 });
    }
    expect(requests).toBe(3);
  });
});
