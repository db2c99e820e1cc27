import type { PlanBuffer, StepTransaction } from './rule.ts';

export type PutUserOp = { kind: 'putUser'; userId: string; username: string; displayName: string };
export type UpdateUserOp = { kind: 'updateUser'; userId: string; displayName: string };

/**
 * Rule `storeUser`: a created user gets the user hash (`u` username, `d` display name), which
 * exists exactly while the user exists; a profile update rewrites the display name.
 */
export function storeUser(
  buffer: PlanBuffer,
  userId: string,
  username: string,
  displayName: string,
): void {
  buffer.touch(userId);
  buffer.push({ kind: 'putUser', userId, username, displayName });
}

export function updateUser(buffer: PlanBuffer, userId: string, displayName: string): void {
  buffer.push({ kind: 'updateUser', userId, displayName });
}

export function emitStoreUser(tx: StepTransaction, op: PutUserOp | UpdateUserOp): void {
  if (op.kind === 'putUser')
    tx.multi.hset(tx.keys.user(op.userId), 'u', op.username, 'd', op.displayName);
  else tx.multi.hset(tx.keys.user(op.userId), 'd', op.displayName);
}
