import { encodeTimelineMember, type TweetBody } from '@tweeter/shared';
import type { Entry } from '../stepPlan.ts';
import type { RuleContext } from './rule.ts';

/**
 * Rule `storeTweet`: a posted tweet's body is stored (`t:<id>`, before any home shows it) and its
 * entry joins the author's list (`author:{G}U`, uncapped: what a follow merges and readers merge
 * for a celebrity). The homes it reaches are `pushToHome`'s.
 */
export function storeTweet(ctx: RuleContext, body: TweetBody, score: number): Entry {
  const entry = { score, member: encodeTimelineMember(body.id) };
  ctx.plan.storeBody(body);
  ctx.plan.effects.zadd(ctx.keys.author(body.authorId), score, entry.member);
  ctx.authors.post(body.authorId, entry);
  ctx.plan.weigh(1);
  return entry;
}
