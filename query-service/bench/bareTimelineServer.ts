/**
 * The limit `timeline-read` is measured against (docs/benchmarks.md): a bare node:http handler doing
 * the same Redis round trips as the query service's warm timeline read (one pipeline: copy
 * liveness, the user's hash, the celebrity set, the home range; then one MGET of the bodies), with
 * no framework, no auth, no validation. Env: BENCH_PORT, REDIS_URL, REDIS_PREFIX, BENCH_USER_ID.
 */
import { createServer } from 'node:http';
import { createRedis, decodeHomeMember, timelineKeys } from '@tweeter/shared';

const redis = createRedis(
  process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  process.env.REDIS_PREFIX ?? '',
);
const keys = timelineKeys('v1');
const userId = process.env.BENCH_USER_ID ?? '';

const server = createServer((req, res) => {
  if (req.url === '/readyz') {
    res.end('ok');
    return;
  }
  void (async () => {
    const p = redis.pipeline();
    p.hget(keys.meta, 'live');
    p.hgetallBuffer(keys.user(userId));
    p.smembers(keys.celebs);
    // Homes are stored newest first (timelineKeys.ts).
    p.zrangeBuffer(keys.home(userId), 0, 20, 'WITHSCORES');
    const replies = (await p.exec()) ?? [];
    const range = replies[3]?.[1] as Buffer[];
    const ids: string[] = [];
    for (let i = 0; i < range.length && ids.length < 20; i += 2)
      ids.push(decodeHomeMember(range[i]!));
    const bodies = await redis.mget(...ids.map((id) => keys.tweet(id)));
    // The same document the service answers: tweets with their authors (names held in memory, as
    // the service's author cache does), and a next cursor.
    const body = JSON.stringify({
      data: bodies.map((b) => {
        const tweet = JSON.parse(b!) as { authorId: string };
        return { ...tweet, author: { id: tweet.authorId, username: 'a', displayName: 'Author' } };
      }),
      nextCursor: 'AQMBog4JpwR3RJdeQvH1ThcoAAABog4Jpz0Bog4Jpz101p2qxVfI8g4AR_N_C1qHoyzyxtEeH5Ocww',
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  })().catch(() => {
    res.writeHead(500);
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.BENCH_PORT));
