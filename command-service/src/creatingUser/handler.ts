import { randomBytes } from 'node:crypto';
import {
  hashToken,
  issueToken,
  readUserStreamEnds,
  userStreamId,
  type EventMetadata,
  type Position,
} from '@tweeter/shared';
import {
  foldEvents,
  handleCommand,
  readStreamState,
  type StreamState,
} from '../core/commandHandling.ts';
import type { CommandContext } from '../core/context.ts';
import { eventMetadata } from '../core/events.ts';
import {
  claimIdempotencyKey,
  findIdempotencyClaim,
  idempotencyScope,
  requestHash,
} from '../core/idempotency.ts';
import { usernameStreamId } from '../core/streams.ts';
import { derivedTokenSecret } from '../core/tokenSecret.ts';
import { Conflict, IdempotencyKeyReused } from '../domain/errors.ts';
import {
  decideClaim,
  initialReservationState,
  reservationFold,
  type ClaimDecision,
  type KeyedRequest,
  type ReservationState,
  type UsernameReserved,
} from '../domain/usernames/usernameReservation.ts';
import {
  decideUser,
  initialUserState,
  userFold,
  usernameTaken,
  type User,
  type UserState,
} from '../domain/users/user.ts';

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
    throw new Conflict('The sign-up was changed concurrently; try again');
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
  const created = {
    userId,
    username: input.username,
    displayName: input.displayName ?? input.username,
    bio: input.bio ?? '',
    tokenHash: hashToken(token),
    createdAt,
  };
  // Presumed new: the stream exists only when our reservation outlived the grace period and was
  // taken over (UserRegistrationAbandoned), and then the decider refuses: the name is taken.
  const { position } = await handleCommand(ctx, {
    name: 'create-user',
    streamId: userStreamId(userId),
    source: { fold: userFold },
    presumeNew: initialUserState,
    decide: (state) => decideUser({ type: 'CreateUser', data: created }, state),
    metadata,
    eventId: () => how.eventId('UserCreated'),
  });
  if (position === null) throw new Error('CreateUser decided to append nothing');
  const { username, displayName, bio, tokenHash } = created;
  const user: User = { id: userId, username, displayName, bio, createdAt, tokenHash };
  return { user, token, position, replayed: how.replayed };
}

/** What a claim of a username decides on: the reservation, and the user stream of its holder. */
interface Reservation {
  reservation: ReservationState;
  owner: UserState;
}

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
  const streamId = usernameStreamId(username);
  const reserved: UsernameReserved = {
    type: 'UsernameReserved',
    data: {
      username,
      userId: plan.userId,
      reservedAt: plan.createdAt,
      ...(keyed ? { idempotency: keyed } : {}),
    },
  };
  const read = async (): Promise<StreamState<Reservation>> => {
    const { state: reservation, expectedRevision } = await readStreamState(
      ctx.eventStore,
      streamId,
      reservationFold,
    );
    const owner =
      reservation.status === 'reserved' && reservation.userId !== plan.userId
        ? foldEvents(await readUserStreamEnds(ctx.eventStore, reservation.userId), userFold)
        : initialUserState;
    return { state: { reservation, owner }, expectedRevision };
  };
  for (;;) {
    let decision = { kind: 'claim' } as ClaimDecision;
    await handleCommand(ctx, {
      name: 'create-user',
      streamId,
      source: { read },
      // The common case first: a free name costs a single append and no read.
      presumeNew: { reservation: initialReservationState, owner: initialUserState },
      decide: ({ reservation, owner }) => {
        const claim = { userId: plan.userId, now: ctx.clock(), graceMs: ctx.usernameGraceMs };
        decision = decideClaim({ ...claim, idempotency: keyed }, reservation, owner);
        switch (decision.kind) {
          case 'taken':
            throw usernameTaken(username);
          case 'key-reused':
            throw new IdempotencyKeyReused();
          case 'adopt':
            return [];
          case 'take-over':
            // An orphan not yet abandoned is abandoned first (below), then decided on again.
            return decision.abandonOrphan ? [] : [reserved];
          case 'claim':
            return reservation.status === 'reserved' ? [] : [reserved]; // ours already, or free
          default:
            return decision satisfies never;
        }
      },
      // A random event id even for a keyed request: a derived one would let a concurrent attempt's
      // append pass as a stored duplicate, and it would go on with a user id that holds no name.
      metadata,
    });
    if (decision.kind === 'adopt')
      return { userId: decision.userId, createdAt: decision.reservedAt };
    if (decision.kind !== 'take-over' || !decision.abandonOrphan) return plan;
    // The orphan's own late UserCreated must fail before its name changes hands: abandon its
    // registration (unless it was created meanwhile), then decide on the name again.
    const orphanId = decision.orphanId;
    await handleCommand(ctx, {
      name: 'create-user',
      streamId: userStreamId(orphanId),
      source: { fold: userFold },
      decide: (owner) =>
        decideUser({ type: 'AbandonRegistration', data: { userId: orphanId } }, owner),
      metadata,
    });
  }
}
