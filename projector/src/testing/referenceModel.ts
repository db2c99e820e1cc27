import type { NewEvent, TweeterEvent } from '@tweeter/shared';

/**
 * The obvious, slow model of what the projections must show, computed from the events in the
 * test: the yardstick integration tests compare the real projections with.
 */
export class ReferenceModel {
  readonly users = new Map<string, { username: string; displayName: string; bio: string }>();
  /** follower → followee → followedAt */
  readonly follows = new Map<string, Map<string, string>>();
  readonly tweets = new Map<string, { authorId: string; text: string; createdAt: string }>();
  readonly celebrities = new Set<string>();

  constructor(private readonly fanoutMaxFollowers = 10_000) {}

  followersOf(userId: string): string[] {
    return [...this.follows].filter(([, m]) => m.has(userId)).map(([f]) => f);
  }

  apply(newEvent: NewEvent): void {
    const event = { type: newEvent.type, data: newEvent.data } as TweeterEvent;
    const at = (newEvent.metadata as { occurredAt: string }).occurredAt;
    switch (event.type) {
      case 'UserCreated':
        if (!this.users.has(event.data.userId))
          this.users.set(event.data.userId, {
            username: event.data.username,
            displayName: event.data.displayName,
            bio: event.data.bio,
          });
        return;
      case 'UserProfileUpdated': {
        const user = this.users.get(event.data.userId);
        if (!user) return;
        if (event.data.displayName !== undefined) user.displayName = event.data.displayName;
        if (event.data.bio !== undefined) user.bio = event.data.bio;
        return;
      }
      case 'UserDeleted': {
        const id = event.data.userId;
        if (!this.users.delete(id)) return;
        this.follows.delete(id);
        for (const m of this.follows.values()) m.delete(id);
        for (const [t, tweet] of this.tweets) if (tweet.authorId === id) this.tweets.delete(t);
        this.celebrities.delete(id);
        return;
      }
      case 'Followed': {
        const { followerId: a, followeeId: b } = event.data;
        if (a === b || !this.users.has(a) || !this.users.has(b)) return;
        const m = this.follows.get(a) ?? new Map<string, string>();
        this.follows.set(a, m);
        if (m.has(b)) return;
        m.set(b, at);
        if (this.followersOf(b).length > this.fanoutMaxFollowers) this.celebrities.add(b);
        return;
      }
      case 'Unfollowed':
        this.follows.get(event.data.followerId)?.delete(event.data.followeeId);
        return;
      case 'TweetPosted':
        if (this.users.has(event.data.authorId) && !this.tweets.has(event.data.tweetId))
          this.tweets.set(event.data.tweetId, {
            authorId: event.data.authorId,
            text: event.data.text,
            createdAt: event.data.createdAt,
          });
        return;
      case 'TweetDeleted':
        this.tweets.delete(event.data.tweetId);
        return;
      default: {
        const never: never = event;
        throw new Error(`unexpected ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * U's true home timeline, newest first (createdAt desc, id desc); without the tweets of
   * followed celebrities when `withoutCelebrities` (what the Redis head holds).
   */
  homeTimeline(userId: string, withoutCelebrities = false): { score: number; id: string }[] {
    const authors = new Set([userId]);
    for (const followee of this.follows.get(userId)?.keys() ?? [])
      if (!withoutCelebrities || !this.celebrities.has(followee)) authors.add(followee);
    return [...this.tweets]
      .filter(([, t]) => authors.has(t.authorId))
      .map(([id, t]) => ({ score: Date.parse(t.createdAt), id }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }
}
