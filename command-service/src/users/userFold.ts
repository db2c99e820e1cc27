import { evolveUser, initialUserState, userEventSchemas } from './user.ts';

/** How the user stream is folded, for readStreamState/decideOnStream. */
export const userFold = {
  schemas: userEventSchemas,
  evolve: evolveUser,
  initialState: initialUserState,
};
