import type { NewEvent } from '@tweeter/shared';
import { LogBuilder } from './eventFactory.ts';
import { ReferenceModel } from './referenceModel.ts';
import { buildWorkload, seededRandom } from './syntheticLog.ts';

/** The celebrity threshold of the crash tests' log. */
export const crashThreshold = 25;

/**
 * The log of the crash tests, seeded (CRASH_SEED repeats one): 300 users, follows, tweets and every
 * kind of removal, with the reference model of its end and the seeded random source the test goes
 * on drawing its kill times from.
 */
export function crashLog(test: string): {
  events: NewEvent[];
  ref: ReferenceModel;
  random: () => number;
} {
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
  console.log(`${test}: seed ${seed} (CRASH_SEED=${seed} repeats its log and kill times)`);
  const random = seededRandom(seed);
  const log = new LogBuilder();
  buildWorkload(
    log,
    {
      users: 300,
      follows: 4000,
      tweets: 7000,
      followsFirst: 0.5,
      unfollows: 300,
      tweetDeletions: 300,
      userDeletions: 15,
      profileUpdates: 100,
    },
    random,
  );
  const events = log.take();
  const ref = new ReferenceModel(crashThreshold);
  for (const e of events) ref.apply(e);
  return { events, ref, random };
}
