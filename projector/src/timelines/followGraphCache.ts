import type { DecodedEvent, RedisClient, TimelineKeys } from '@tweeter/shared';
import { AuthorLists, CompleteLists } from './authorLists.ts';
import { MemoryFollowGraph } from './followGraph.ts';
import { listsNeededBy, neededBy, type PlanInputs } from './plan.ts';
import type { Entry } from './stepPlan.ts';

/**
 * What a batch's plan reads, loaded before planning in three rounds of commands (each one key,
 * auto-pipelined: one round trip per Redis node):
 *
 * 1. the follow graph (who follows an author, whether a user exists), kept in process memory
 *    between batches: planning updates it in step; it is dropped whenever it may describe
 *    something that was not committed (a failed batch, a restart from the stored checkpoint) and
 *    when it outgrows `limit` members;
 * 2. the boundaries of the homes an unfollow or a deletion unmerges from;
 * 3. the parts of authors' lists the batch's follows merge and its unfollows and deletions
 *    remove, but for the lists held whole in memory (`CompleteLists`: those of users created
 *    while the graph was held), which planning keeps in step like the graph.
 *
 * Everything read here is written only by the shared phase of a step (the graph, the lists, the
 * `u` field of user hashes) or only rises (boundaries), and those reads wait until the previous
 * batch's steps landed (`settled`): the reads are the state as of the batch's start, whatever a
 * crashed attempt of it left in the homes. A boundary is read at once: one read before the
 * previous batch's homes landed is lower or the same, a floor of the home all the same. (Only a
 * drop lowers one, and a dropped home's owner never comes back: user ids are not reused.)
 *
 * A cache that has held the graph since the copy was empty (`startEmpty`: a build from the start
 * of the log) knows it whole: a user it does not know does not exist, every user's sets and every
 * list it holds are complete, and it reads nothing but boundaries. A replay then plans a batch
 * while the previous one lands.
 */
export class FollowGraphCache {
  /** Known whole (`graph.whole`) when created on an empty copy and kept in step since. */
  private graph: MemoryFollowGraph | undefined;
  /** The copy is empty (no checkpoint): the next graph starts whole. */
  private empty = false;
  private readonly lists: CompleteLists;
  /** Events planned since the graph's size was last measured (it walks every set held). */
  private sinceSized = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: TimelineKeys,
    private readonly cap: number,
    private readonly limit = 3_000_000,
    listLimit = 500_000,
  ) {
    this.lists = new CompleteLists(listLimit);
  }

  /** Forgets everything: the next batch reloads what it needs. */
  drop(): void {
    this.graph = undefined;
    this.empty = false;
    this.lists.clear();
  }

  /** The copy has no keys (a new copy, or one just wiped): the graph to come is known whole. */
  startEmpty(): void {
    this.drop();
    this.empty = true;
  }

  /**
   * Loads what planning `events` reads; reads of what steps' shared phases write wait for
   * `settled` (the previous batch's landing, when it may still be under way).
   */
  async loadFor(events: DecodedEvent[], settled?: Promise<unknown>): Promise<PlanInputs> {
    let waited = settled === undefined;
    const landed = async () => {
      if (!waited) await settled;
      waited = true;
    };
    const graph = await this.loadGraph(events, landed);
    const lists = listsNeededBy(events, graph, this.cap);
    const homes = [...lists.boundaries];
    const scores = await Promise.all(homes.map((h) => this.redis.hget(this.keys.user(h), 'bs')));
    const boundaries = new Map(
      homes.map((h, i) => [h, scores[i] == null ? null : Number(scores[i])]),
    );
    this.lists.bound();
    const authors = new AuthorLists(this.lists);
    // Authors whose whole list is held need no load; nor, in a graph known whole, those who do
    // not exist (yet): their lists are empty.
    const needs = [...lists.authors(boundaries)].filter(
      ([author]) => !this.lists.has(author) && !(graph.whole && graph.users.get(author) !== true),
    );
    if (needs.length > 0) await landed();
    const replies = await Promise.all(
      needs.map(([author, need]) => {
        const key = this.keys.author(author);
        const newest =
          need.newest > 0
            ? this.redis.zrangeBuffer(key, 0, need.newest - 1, 'REV', 'WITHSCORES')
            : Promise.resolve([] as Buffer[]);
        const above =
          need.floor === Number.POSITIVE_INFINITY
            ? Promise.resolve([] as Buffer[])
            : this.redis.zrangeBuffer(
                key,
                '+inf',
                need.floor ?? '-inf',
                'BYSCORE',
                'REV',
                'WITHSCORES',
              );
        return Promise.all([newest, above]);
      }),
    );
    needs.forEach(([author], i) => {
      for (const reply of replies[i]!) authors.load(author, entriesOf(reply));
      if (!authors.isLoaded(author)) authors.load(author, []);
    });
    return { graph, authors, boundaries, keys: this.keys };
  }

  private async loadGraph(
    events: DecodedEvent[],
    landed: () => Promise<void>,
  ): Promise<MemoryFollowGraph> {
    let graph = this.graph;
    // Measured after a batch that loaded anything, else once `sizeEvery` events were planned since
    // (planning adds a few members per event at most): not before every live batch.
    if (graph && this.sinceSized >= sizeEvery) {
      this.sinceSized = 0;
      if (graph.size() > this.limit) graph = undefined;
    }
    this.sinceSized += events.length;
    if (!graph) {
      // The lists held were kept in step with this graph: they go with it.
      this.lists.clear();
      graph = new MemoryFollowGraph(this.empty);
      this.empty = false;
      if (!graph.whole) {
        await landed();
        for (const id of await this.redis.smembers(this.keys.celebs)) graph.addCelebrity(id);
      }
      this.graph = graph;
    }
    // Known whole: the users it knows are all there are, each with its sets.
    if (graph.whole) return graph;
    const needs = neededBy(events);
    const k = this.keys;
    const unknown = [...needs.users].filter((u) => !graph.users.has(u));
    if (unknown.length > 0) {
      await landed();
      const exists = await Promise.all(unknown.map((u) => this.redis.hexists(k.user(u), 'u')));
      unknown.forEach((u, i) => graph.users.set(u, exists[i] === 1));
    }
    const sets = [
      ...[...needs.followers]
        .filter((u) => graph.users.get(u) === true && !graph.followerSets.has(u))
        .map((u) => ({ u, key: k.followers(u), into: graph.followerSets })),
      ...[...needs.following]
        .filter((u) => graph.users.get(u) === true && !graph.followingSets.has(u))
        .map((u) => ({ u, key: k.following(u), into: graph.followingSets })),
    ];
    if (sets.length > 0) await landed();
    const members = await Promise.all(sets.map((s) => this.redis.smembers(s.key)));
    sets.forEach((s, i) => s.into.set(s.u, new Set(members[i])));
    if (unknown.length > 0 || sets.length > 0) this.sinceSized = sizeEvery;
    return graph;
  }
}

/** Events planned between two measures of the graph's size when no batch loaded anything. */
const sizeEvery = 10_000;

/** A WITHSCORES reply (member, score, …) → entries. */
function entriesOf(reply: readonly Buffer[]): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2)
    entries.push({ score: Number(reply[i + 1]!.toString()), member: reply[i]! });
  return entries;
}
