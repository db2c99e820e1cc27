import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen } from '@tweeter/shared';
import { v7 as uuidv7 } from 'uuid';

/**
 * A stand-in for the query service's three routes a digest reads (another product's API, not a
 * database): profiles by username, a user's tweets and followers as pages {data, nextCursor}.
 */
export class QueryServiceStub {
  readonly authorizations: (string | undefined)[] = [];
  /** The X-Min-Position of each request, by path. */
  readonly minPositions: { path: string; minPosition: string | undefined }[] = [];
  private readonly users = new Map<string, { id: string; username: string }>();
  /** Answer every request with this status instead (a query service in trouble). */
  failWith: number | null = null;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<QueryServiceStub> {
    const holder: { stub?: QueryServiceStub } = {};
    const server = createServer((req, res) => holder.stub!.handle(req, res));
    await listen(server, 0);
    const { port } = server.address() as AddressInfo;
    holder.stub = new QueryServiceStub(server, `http://127.0.0.1:${port}`);
    return holder.stub;
  }

  addUser(username: string): { id: string; username: string } {
    const user = { id: uuidv7(), username };
    this.users.set(username.toLowerCase(), user);
    return user;
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    this.authorizations.push(req.headers.authorization);
    const minPosition = req.headers['x-min-position'];
    this.minPositions.push({
      path: (req.url ?? '/').split('?')[0]!,
      minPosition: typeof minPosition === 'string' ? minPosition : undefined,
    });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.failWith !== null) return send(this.failWith, { status: this.failWith });
    const url = new URL(req.url ?? '/', this.url);
    const byName = /^\/users\/by-username\/([^/]+)$/.exec(url.pathname);
    if (byName) {
      const user = this.users.get(decodeURIComponent(byName[1]!).toLowerCase());
      return user
        ? send(200, { ...user, displayName: user.username, bio: '', followersCount: 25 })
        : send(404, { type: '/problems/not-found' });
    }
    const listing = /^\/users\/([^/]+)\/(tweets|followers)$/.exec(url.pathname);
    if (listing) {
      const limit = Number(url.searchParams.get('limit') ?? 20);
      const data = Array.from({ length: limit }, (_, i) =>
        listing[2] === 'tweets'
          ? { id: uuidv7(), authorId: listing[1], text: `tweet ${i}` }
          : { id: uuidv7(), username: `follower${i}`, displayName: `Follower ${i}` },
      );
      return send(200, { data, nextCursor: 'next' });
    }
    send(404, { type: '/problems/not-found' });
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}
