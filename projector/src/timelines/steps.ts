import type { DecodedEvent, Position } from '@tweeter/shared';
import { TimelinePlanner, type PlanInputs, type PlanOptions } from './plan.ts';
import type { StepPlan } from './stepPlan.ts';
import type { StepWriter } from './stepWriter.ts';

/** Events planned between two turns of the event loop while a step is being written. */
const eventsPerTurn = 2000;

/**
 * Applies a batch in steps of about `maxCommands` timeline writes, so that no single step holds
 * a large part of the batch in memory or keeps readers waiting for its checkpoint; each step
 * carries its own checkpoint (its last event's position, the batch's `upTo` for the last step).
 * A step is written only after the previous one landed (its checkpoint is the next step's
 * `from`, and the next step's plan reads what it wrote to the shared keys through the planner's
 * memory, not Redis). So the next step is planned while the previous one is being written: the
 * planner gives the event loop a turn every `eventsPerTurn` events, in which the writes go out
 * and their replies come in, and Redis works while this process plans. At most two steps are
 * held: the one being written and the one being planned. Once a write fails, nothing more is
 * planned or written, and the failure is thrown.
 *
 * `after`: the last step of the previous batch, when it may still be being written (a replay
 * plans a batch while the previous one lands: `TimelinesProjection.applyAhead`). This batch's
 * first step is written after it, and its failure is this batch's. Resolves as soon as the
 * batch's last step is being written (every earlier one landed), with the promise of its landing,
 * which rejects with the first failure of the batch's writes or of `after`'s.
 */
export async function applyInSteps(
  events: DecodedEvent[],
  upTo: Position,
  from: Position | null,
  {
    inputs,
    plan,
    maxCommands,
    writer,
    after,
  }: {
    inputs: PlanInputs;
    plan: PlanOptions;
    maxCommands: number;
    writer: StepWriter;
    after?: Promise<void> | undefined;
  },
): Promise<{ landed: Promise<void> }> {
  const planner = new TimelinePlanner(inputs, plan);
  let stepFrom = from;
  let failed = false;
  /** The step being written, if any (at most one: the next is planned meanwhile). */
  let writing: Promise<void> | undefined;
  const track = (promise: Promise<void>) => {
    writing = promise;
    promise.catch(() => {
      failed = true;
    });
  };
  if (after) track(after);
  const write = async (step: StepPlan, position: Position) => {
    await writing;
    track(writer.write(step, position, stepFrom));
    stepFrom = position;
  };
  try {
    for (let i = 0; i < events.length && !failed; i++) {
      const event = events[i]!;
      planner.plan(event);
      if (planner.step.weight >= maxCommands && i < events.length - 1)
        await write(planner.nextStep(), event.position);
      else if (writing && i % eventsPerTurn === eventsPerTurn - 1)
        await new Promise((resolve) => setImmediate(resolve));
    }
    if (!failed) await write(planner.nextStep(), upTo);
  } catch (error) {
    // Nothing is left running behind a failure.
    await writing?.catch(() => undefined);
    throw error;
  }
  // A failure (this batch's or `after`'s) is thrown here, not reported as a batch being written.
  if (failed) await writing;
  return { landed: writing! };
}
