import type { ProblemType } from '@tweeter/shared';
import { expect } from 'vitest';
import { problemOf } from '../core/problems.ts';
import { DomainError } from '../domain/errors.ts';

/**
 * Decider tests that read as specifications:
 * `given([UserCreated]).when(PostTweet).then([TweetPosted])` or `.thenFails('forbidden')`: the
 * decider refuses with a domain error that answers with that problem type.
 */
export function deciderSpec<C, E, S, D extends E>(
  /** May decide a narrower set of events than the state folds (e.g. only the edge's, not the user's). */
  decide: (command: C, state: S) => D[],
  fold: { evolve: (state: S, event: E) => S; initialState: S },
) {
  return {
    given: (events: E[]) => ({
      when: (command: C) => {
        const run = () => decide(command, events.reduce(fold.evolve, fold.initialState));
        return {
          then: (expected: D[]) => expect(run()).toEqual(expected),
          thenNothing: () => expect(run()).toEqual([]),
          thenFails: (type: ProblemType) => {
            let thrown: unknown;
            try {
              run();
            } catch (error) {
              thrown = error;
            }
            expect(thrown, `expected a ${type} refusal`).toBeInstanceOf(DomainError);
            expect(problemOf(thrown as DomainError).type).toBe(type);
          },
        };
      },
    }),
  };
}
