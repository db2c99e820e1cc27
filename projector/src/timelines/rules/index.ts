/**
 * The timelines projection's rules, each a named unit owning its plan step: `storeUser`,
 * `storeTweet`, `pushToHome`, `trimHome`, `mergeIntoHome`, `unmergeFromHome`, `removeTweet`,
 * `markCelebrity`, `deleteUser`. A rule writes a step's operations on homes (applied by the home
 * script, homeScript.ts) and its shared effects (stepPlan.ts); which rule applies to which event
 * is plan.ts's decision.
 */
export { deleteUser } from './deleteUser.ts';
export { markCelebrity } from './markCelebrity.ts';
export { mergeIntoHome } from './mergeIntoHome.ts';
export { pushToHome } from './pushToHome.ts';
export { removeTweet } from './removeTweet.ts';
export type { RuleContext } from './rule.ts';
export { storeTweet } from './storeTweet.ts';
export { storeUser, updateUser } from './storeUser.ts';
export { homeScriptPrelude } from './trimHome.ts';
export { unmergeAuthor, unmergeFromHome } from './unmergeFromHome.ts';
