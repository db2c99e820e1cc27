import { deleteBodiesScript, emitDeleteUser, type DeleteUserOp } from './deleteUser.ts';
import { emitMarkCelebrity, type MarkCelebrityOp } from './markCelebrity.ts';
import { emitMergeIntoHome, mergeIntoHomeScript, type MergeIntoHomeOp } from './mergeIntoHome.ts';
import { pushToHomeScript, type PushToHomeOp } from './pushToHome.ts';
import { emitRemoveTweet, type RemoveTweetOp } from './removeTweet.ts';
import type { StepTransaction } from './rule.ts';
import { emitStoreTweet, type StoreTweetOp } from './storeTweet.ts';
import { emitStoreUser, type PutUserOp, type UpdateUserOp } from './storeUser.ts';
import {
  emitUnmergeFromHome,
  unmergeFromHomeScript,
  type UnmergeFromHomeOp,
} from './unmergeFromHome.ts';

/**
 * The timelines projection's rules, each a named unit owning its plan step, its operation and its
 * Redis commands or Lua script: `storeUser`, `storeTweet`, `pushToHome`, `trimHome`,
 * `mergeIntoHome`, `unmergeFromHome`, `removeTweet`, `markCelebrity`, `deleteUser`. Which rule
 * applies to which event is plan.ts's decision.
 */
export { deleteUser } from './deleteUser.ts';
export { markCelebrity } from './markCelebrity.ts';
export { mergeIntoHome } from './mergeIntoHome.ts';
export { HomePushBundler, pushToHome } from './pushToHome.ts';
export { removeTweet } from './removeTweet.ts';
export type { PlanBuffer, StepTransaction } from './rule.ts';
export { storeTweet } from './storeTweet.ts';
export { storeUser, updateUser } from './storeUser.ts';
export { unmergeFromHome } from './unmergeFromHome.ts';

/** One planned Redis operation: what a rule's plan step appends and its Redis side sends. */
export type TimelineOp =
  | PutUserOp
  | UpdateUserOp
  | PushToHomeOp
  | StoreTweetOp
  | RemoveTweetOp
  | MergeIntoHomeOp
  | UnmergeFromHomeOp
  | MarkCelebrityOp
  | DeleteUserOp;

export type {
  DeleteUserOp,
  MarkCelebrityOp,
  MergeIntoHomeOp,
  PushToHomeOp,
  PutUserOp,
  RemoveTweetOp,
  StoreTweetOp,
  UnmergeFromHomeOp,
  UpdateUserOp,
};

/** Every Lua script of the rules, loaded at setup (`trimHome` runs inside the first two). */
export const timelineScripts = {
  pushToHome: pushToHomeScript,
  mergeIntoHome: mergeIntoHomeScript,
  unmergeFromHome: unmergeFromHomeScript,
  deleteBodies: deleteBodiesScript,
} as const;
export type TimelineScriptName = keyof typeof timelineScripts;

/** Sends `op` with its rule's commands (add groups go through `HomePushBundler` instead). */
export function emitOp(tx: StepTransaction, op: Exclude<TimelineOp, PushToHomeOp>): void {
  switch (op.kind) {
    case 'putUser':
    case 'updateUser':
      return emitStoreUser(tx, op);
    case 'putTweet':
      return emitStoreTweet(tx, op);
    case 'removeTweet':
      return emitRemoveTweet(tx, op);
    case 'follow':
      return emitMergeIntoHome(tx, op);
    case 'unfollow':
      return emitUnmergeFromHome(tx, op);
    case 'becomeCelebrity':
      return emitMarkCelebrity(tx, op);
    case 'deleteUser':
      return emitDeleteUser(tx, op);
    default: {
      const never: never = op;
      throw new Error(`unknown op ${JSON.stringify(never)}`);
    }
  }
}
