import { randomBytes } from 'node:crypto';
import {
  conflict,
  hashToken,
  issueToken,
  WrongExpectedRevisionError,
  type EventMetadata,
  type Position,
} from '@tweeter/shared';
import { readStreamState, retryOnConflict } from '../core/commandHandling.ts';
import { retryOptions, type CommandContext } from '../core/context.ts';
import { eventMetadata, toNewEvents } from '../core/events.ts';
import { claimIdempotencyKey, requestHash } from '../core/idempotency.ts';
import { userStream, usernameStream } from '../core/streams.ts';
import { derivedTokenSecret } from '../core/tokenSecret.ts';
import {
  decideClaim,
  evolveReservation,
  initialReservationState,
  usernameEventSchemas,
  type UsernameReserved,
} from '../usernames/usernameReservation.ts';
import { decideUser, initialUserState, type User } from '../users/user.ts';
import { userFold } from '../users/userFold.ts';

export interface CreateUserInput {
  username: string;
  displayName?: string | undefined;
  bio?: string | undefined;
}

export interface CreatedUser {
  user: User;
  token: string;
  position: Position;
  replayed: boolean;
}

const route = 'POST /users';
const usernameTaken = (username: string) =>
  conflict(`The username ${username} is taken`, { field: 'username' });

export async function createUser(
  ctx: CommandContext,
  input: CreateUserInput,
  request: { requestId: string; idempotencyKey?: string | undefined },
): Promise<CreatedUser> {
  const now = ctx.clock();
  const metadata = eventMetadata({ requestId: request.requestId, actorId: null, now });
  let plan = { userId: ctx.ids(), createdAt: now.toISOString() };
  let eventId = (_name: string) => ctx.ids();
  let replayed = false;
  let tokenSecret: Buffer = randomBytes(32);

  if (request.idempotencyKey !== undefined) {
    const claim = await claimIdempotencyKey(
      ctx.eventStore,
      {
        caller: 'anonymous',
        route,
        key: request.idempotencyKey,
        requestHash: requestHash(input),
        plan,
      },
      metadata,
      ctx.ids(),
    );
    replayed = claim.plan.userId !== plan.userId;
    plan = claim.plan;
    eventId = claim.eventId;
    // The token must come out the same on a repeat, yet is never stored: derive it.
    tokenSecret = derivedTokenSecret(ctx.tokenSecret, plan.userId);
  }

  const { userId, createdAt } = plan;
  const token = issueToken(userId, tokenSecret);
  const reserved: UsernameReserved = {
    type: 'UsernameReserved',
    data: { username: input.username, userId, reservedAt: createdAt },
  };
  await reserveUsername(ctx, reserved, metadata, eventId('UsernameReserved'));

  const events = decideUser(
    {
      type: 'CreateUser',
      data: {
        userId,
        username: input.username,
        displayName: input.displayName ?? input.username,
        bio: input.bio ?? '',
        tokenHash: hashToken(token),
        createdAt,
      },
    },
    initialUserState,
  );
  try {
    const { position } = await ctx.eventStore.append(
      userStream(userId),
      toNewEvents(events, metadata, () => eventId('UserCreated')),
      { expectedRevision: 'no_stream' },
    );
    const created = events[0]!.type === 'UserCreated' ? events[0]!.data : null;
    if (!created) throw new Error('CreateUser decided something other than UserCreated');
    const { userId: id, username, displayName, bio } = created;
    return {
      user: { id, username, displayName, bio, createdAt, tokenHash: created.tokenHash },
      token,
      position,
      replayed,
    };
  } catch (error) {
    // Our reservation outlived the grace period and was taken over (the user stream now holds
    // UserRegistrationAbandoned): the name belongs to someone else.
    if (error instanceof WrongExpectedRevisionError) throw usernameTaken(input.username);
    throw error;
  }
}

const reservationFold = {
  schemas: usernameEventSchemas,
  evolve: evolveReservation,
  initialState: initialReservationState,
};

/** Step 1 of sign-up (see usernameReservation.ts): make the username ours, or 409. */
async function reserveUsername(
  ctx: CommandContext,
  reserved: UsernameReserved,
  metadata: EventMetadata,
  reservationEventId: string,
): Promise<void> {
  const streamId = usernameStream(reserved.data.username);
  const newEvents = toNewEvents([reserved], metadata, () => reservationEventId);
  // The common case first: a free name costs a single append and no read.
  try {
    await ctx.eventStore.append(streamId, newEvents, { expectedRevision: 'no_stream' });
    return;
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
  }
  await retryOnConflict(retryOptions(ctx, 'create-user'), async () => {
    const reservation = await readStreamState(ctx.eventStore, streamId, reservationFold);
    const owner =
      reservation.state.status === 'reserved' && reservation.state.userId !== reserved.data.userId
        ? await readStreamState(ctx.eventStore, userStream(reservation.state.userId), userFold)
        : { state: initialUserState, expectedRevision: 'no_stream' as const };
    const decision = decideClaim(
      { userId: reserved.data.userId, now: ctx.clock(), graceMs: ctx.usernameGraceMs },
      reservation.state,
      owner.state,
    );
    switch (decision.kind) {
      case 'taken':
        throw usernameTaken(reserved.data.username);
      case 'take-over':
        if (decision.abandonOrphan) {
          const abandon = decideUser(
            { type: 'AbandonRegistration', data: { userId: decision.orphanId } },
            owner.state,
          );
          await ctx.eventStore.append(
            userStream(decision.orphanId),
            toNewEvents(abandon, metadata),
            { expectedRevision: owner.expectedRevision },
          );
        }
        break;
      case 'claim':
        if (reservation.state.status === 'reserved') return; // ours already
        break;
      default:
        decision satisfies never;
    }
    await ctx.eventStore.append(streamId, newEvents, {
      expectedRevision: reservation.expectedRevision,
    });
  });
}
