/**
 * The benchmark's receiver, in a process of its own so that it never shares an event loop with
 * the sender being measured: answers every POST with 204 at once, and on GET /stats says how many
 * it got and when each tweet's delivery arrived (ms since the epoch, by tweet text).
 */
import { createServer } from 'node:http';

let received = 0;
const arrivals: Record<string, number> = {};
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ received, arrivals }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    received++;
    res.writeHead(204).end();
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { data?: { text?: string } };
      const text = body.data?.text;
      if (text?.startsWith('latency ')) arrivals[text] = at;
    } catch {
      // not JSON: counted all the same
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`${address.port}\n`);
});
