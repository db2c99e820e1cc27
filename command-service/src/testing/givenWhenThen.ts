import { Problem, type ProblemType } from '@tweeter/shared';
import { expect } from 'vitest';

/**
 * Decider tests that read as specifications:
 * `given([UserCreated]).when(PostTweet).then([TweetPosted])` or `.thenFails('forbidden')`.
 */
export function deciderSpec<C, E, S, D extends E>(decider: {
  /** May decide a narrower set of events than the state folds (e.g. only the edge's, not the user's). */
  decide: (command: C, state: S) => D[];
  evolve: (state: S, event: E) => S;
  initialState: S;
}) {
  return {
    given: (events: E[]) => ({
      when: (command: C) => {
        const run = () =>
          decider.decide(command, events.reduce(decider.evolve, decider.initialState));
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
            expect(thrown, `expected a ${type} problem`).toBeInstanceOf(Problem);
            expect((thrown as Problem).type).toBe(type);
          },
        };
      },
    }),
  };
}
