import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen } from '@tweeter/shared';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

/** How the receiver answers: a status (and optional headers) per request. */
export type Responder = (request: {
  headers: IncomingHttpHeaders;
  body: string;
  /** How many times this webhook-id has been received, this one included. */
  seen: number;
}) => { status: number; headers?: Record<string, string>; delayMs?: number };

/** A real HTTP receiver on loopback that records every request it answers. */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** webhook-ids of the requests being answered right now (a delayed answer is pending). */
  readonly inFlight = new Set<string>();
  private readonly seen = new Map<string, number>();
  respond: Responder = () => ({ status: 204 });

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hook'): Promise<TestReceiver> {
    const holder: { receiver?: TestReceiver } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        holder.receiver!.handle(req.headers, Buffer.concat(chunks).toString(), res),
      );
    });
    await listen(server, 0);
    const { port } = server.address() as AddressInfo;
    holder.receiver = new TestReceiver(server, `http://127.0.0.1:${port}${path}`);
    return holder.receiver;
  }

  private handle(headers: IncomingHttpHeaders, body: string, res: ServerResponse) {
    const id = String(headers['webhook-id']);
    const seen = (this.seen.get(id) ?? 0) + 1;
    this.seen.set(id, seen);
    const answer = this.respond({ headers, body, seen });
    this.inFlight.add(id);
    const finish = () => {
      this.inFlight.delete(id);
      const request = { headers, body, status: answer.status, at: Date.now() };
      this.requests.push(request);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end();
    };
    if (answer.delayMs) setTimeout(finish, answer.delayMs);
    else finish();
  }

  /** Requests answered with a 2xx. */
  get successes(): ReceivedRequest[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300);
  }

  /** Waits until `done` holds over the recorded requests (polls; throws after `timeoutMs`). */
  async waitFor(done: (r: TestReceiver) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this)) {
      if (Date.now() > deadline)
        throw new Error(
          `receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests)`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}
