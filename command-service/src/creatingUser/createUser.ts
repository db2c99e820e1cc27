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
import {
  claimIdempotencyKey,
  findIdempotencyClaim,
  idempotencyKeyReused,
  idempotencyScope,
  requestHash,
} from '../core/idempotency.ts';
import { userStream, usernameStream } from '../core/streams.ts';
import { derivedTokenSecret } from '../core/tokenSecret.ts';
import {
  decideClaim,
  evolveReservation,
  initialReservationState,
  usernameEventSchemas,
  type KeyedRequest,
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

/** The values a sign-up chooses; a keyed repeat gets those of the first accepted attempt. */
type Plan = { userId: string; createdAt: string };

/**
 * Sign-up. A refused sign-up (any 4xx) appends nothing, ever, with or without an Idempotency-Key:
 * the key is recorded only once the sign-up is accepted, i.e. once the username is reserved for
 * it, and never for a refusal. So a refused request binds no key and leaves nothing to replay; its
 * retry is simply decided again and gets the same 409 while the name stays taken. That is what
 * Stripe-style idempotency does with requests that fail validation, too.
 *
 * Keyed: look the key up (a repeat of an accepted sign-up replays its plan; a different request
 * under that key is 409 idempotency-key-reused), reserve the username (its reservation names the
 * key, so concurrent repeats converge on one user id, see decideClaim), record the key (expecting
 * no stream: of concurrent first uses one wins and the others take its plan), create the user with
 * event ids derived from the key (a repeat's appends are recognised as stored).
 *
 * One gap remains, since no store here appends to two streams at once: two simultaneous first
 * uses of one key with *different* usernames both find no record, may both reserve, and only one
 * records the key. The loser answers 409 idempotency-key-reused and leaves a reservation whose
 * user never appears: an orphan, taken over by the next sign-up of that name after the grace
 * period like any crashed sign-up's.
 */
export async function createUser(
  ctx: CommandContext,
  input: CreateUserInput,
  request: { requestId: string; idempotencyKey?: string | undefined },
): Promise<CreatedUser> {
  const now = ctx.clock();
  const metadata = eventMetadata({ requestId: request.requestId, actorId: null, now });
  const fresh: Plan = { userId: ctx.ids(), createdAt: now.toISOString() };

  if (request.idempotencyKey === undefined) {
    const plan = await reserveUsername(ctx, input.username, fresh, metadata);
    return createUserStream(ctx, input, plan, metadata, {
      tokenSecret: randomBytes(32),
      eventId: () => ctx.ids(),
      replayed: false,
    });
  }

  const use = {
    caller: 'anonymous',
    route,
    key: request.idempotencyKey,
    requestHash: requestHash(input),
  };
  const scope = idempotencyScope(use);
  const recorded = await findIdempotencyClaim<Plan>(ctx.eventStore, use);
  const reserved = await reserveUsername(ctx, input.username, recorded?.plan ?? fresh, metadata, {
    scope: scope.id,
    requestHash: use.requestHash,
  });
  // Accepted: the name is ours. Only now may the key be recorded.
  const claim =
    recorded ??
    (await claimIdempotencyKey(ctx.eventStore, { ...use, plan: reserved }, metadata, ctx.ids()));
  // Attempts of one keyed request converge on the first one's user id (see decideClaim); anything
  // else means the name changed hands in between: let the client try again.
  if (claim.plan.userId !== reserved.userId)
    throw conflict('The sign-up was changed concurrently; try again');
  const plan = claim.plan;
  return createUserStream(ctx, input, plan, metadata, {
    // The token must come out the same on a repeat, yet is never stored: derive it.
    tokenSecret: derivedTokenSecret(ctx.tokenSecret, plan.userId),
    eventId: claim.eventId,
    replayed: plan.userId !== fresh.userId,
  });
}

/** Step 2 of sign-up (see usernameReservation.ts): the user stream, with the name reserved. */
async function createUserStream(
  ctx: CommandContext,
  input: CreateUserInput,
  { userId, createdAt }: Plan,
  metadata: EventMetadata,
  how: { tokenSecret: Buffer; eventId: (name: string) => string; replayed: boolean },
): Promise<CreatedUser> {
  const token = issueToken(userId, how.tokenSecret);
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
      toNewEvents(events, metadata, () => how.eventId('UserCreated')),
      { expectedRevision: 'no_stream' },
    );
    const created = events[0]!.type === 'UserCreated' ? events[0]!.data : null;
    if (!created) throw new Error('CreateUser decided something other than UserCreated');
    const { userId: id, username, displayName, bio } = created;
    return {
      user: { id, username, displayName, bio, createdAt, tokenHash: created.tokenHash },
      token,
      position,
      replayed: how.replayed,
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

/**
 * Step 1 of sign-up (see usernameReservation.ts): make the username ours, or 409. Returns the plan
 * to go on with: ours, or that of another attempt of the same keyed request holding the name.
 */
async function reserveUsername(
  ctx: CommandContext,
  username: string,
  plan: Plan,
  metadata: EventMetadata,
  keyed?: KeyedRequest,
): Promise<Plan> {
  const streamId = usernameStream(username);
  const reserved: UsernameReserved = {
    type: 'UsernameReserved',
    data: {
      username,
      userId: plan.userId,
      reservedAt: plan.createdAt,
      ...(keyed ? { idempotency: keyed } : {}),
    },
  };
  // A random event id even for a keyed request: a derived one would let a concurrent attempt's
  // append pass as a stored duplicate, and it would go on with a user id that holds no name.
  const newEvents = toNewEvents([reserved], metadata);
  // The common case first: a free name costs a single append and no read.
  try {
    await ctx.eventStore.append(streamId, newEvents, { expectedRevision: 'no_stream' });
    return plan;
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
  }
  return retryOnConflict(retryOptions(ctx, 'create-user'), async () => {
    const reservation = await readStreamState(ctx.eventStore, streamId, reservationFold);
    const owner =
      reservation.state.status === 'reserved' && reservation.state.userId !== plan.userId
        ? await readStreamState(ctx.eventStore, userStream(reservation.state.userId), userFold)
        : { state: initialUserState, expectedRevision: 'no_stream' as const };
    const decision = decideClaim(
      { userId: plan.userId, now: ctx.clock(), graceMs: ctx.usernameGraceMs, idempotency: keyed },
      reservation.state,
      owner.state,
    );
    switch (decision.kind) {
      case 'taken':
        throw usernameTaken(username);
      case 'key-reused':
        throw idempotencyKeyReused();
      case 'adopt':
        return { userId: decision.userId, createdAt: decision.reservedAt };
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
        if (reservation.state.status === 'reserved') return plan; // ours already
        break;
      default:
        decision satisfies never;
    }
    await ctx.eventStore.append(streamId, newEvents, {
      expectedRevision: reservation.expectedRevision,
    });
    return plan;
  });
}
