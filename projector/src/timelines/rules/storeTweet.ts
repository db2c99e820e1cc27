import { encodeTimelineMember, encodeTweetBody, type TweetBody } from '@tweeter/shared';
import type { PlanBuffer, StepTransaction } from './rule.ts';

/** The tweet joins its author's list, and its body is stored. */
export type StoreTweetOp = { kind: 'putTweet'; body: TweetBody; score: number };

/**
 * Rule `storeTweet`: a posted tweet's body is stored (`t:<id>`) and its entry joins the author's
 * list (`author:{U}`, uncapped: what a follow merges and readers merge for a celebrity). The homes
 * it reaches are `pushToHome`'s.
 */
export function storeTweet(buffer: PlanBuffer, body: TweetBody, score: number): void {
  buffer.push({ kind: 'putTweet', score, body }, 2);
}

export function emitStoreTweet(tx: StepTransaction, op: StoreTweetOp): void {
  tx.multi.zadd(tx.keys.author(op.body.authorId), op.score, encodeTimelineMember(op.body.id));
  tx.multi.set(tx.keys.tweet(op.body.id), encodeTweetBody(op.body));
}
