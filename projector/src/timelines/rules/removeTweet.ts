import { encodeTimelineMember } from '@tweeter/shared';
import type { PlanBuffer, StepTransaction } from './rule.ts';

/** The tweet leaves its author's list, the given homes, and its body is deleted. */
export type RemoveTweetOp = {
  kind: 'removeTweet';
  authorId: string;
  tweetId: string;
  homesOf: string[];
};

/**
 * Rule `removeTweet` (unpush from every home): a deleted tweet leaves its author's list, its body,
 * and the homes of everyone who may hold it: the author and the current followers (an unfollow
 * already removed it from former followers; a celebrity's older tweets may still be fanned out).
 */
export function removeTweet(
  buffer: PlanBuffer,
  authorId: string,
  tweetId: string,
  homesOf: string[],
): void {
  for (const home of homesOf) buffer.touch(home);
  buffer.push({ kind: 'removeTweet', authorId, tweetId, homesOf }, homesOf.length + 2);
}

export function emitRemoveTweet(tx: StepTransaction, op: RemoveTweetOp): void {
  const k = tx.keys;
  const member = encodeTimelineMember(op.tweetId);
  for (const home of op.homesOf) tx.multi.zrem(k.home(home), member);
  tx.multi.zrem(k.author(op.authorId), member);
  tx.multi.del(k.tweet(op.tweetId));
}
