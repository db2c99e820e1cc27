import type { DecodedEvent, Position } from '@tweeter/shared';
import { TimelinePlanner, type PlanInputs, type PlanOptions } from './plan.ts';
import type { StepWriter } from './stepWriter.ts';

/**
 * Applies a batch in steps of about `maxCommands` timeline writes, so that no single step holds
 * a large part of the batch in memory or keeps readers waiting for its checkpoint; each step
 * carries its own checkpoint (its last event's position, the batch's `upTo` for the last step).
 * A step is written only after the previous one landed (its checkpoint is the next step's
 * `from`, and the next step's plan reads what it wrote to the shared keys through the planner's
 * memory, not Redis).
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
  }: { inputs: PlanInputs; plan: PlanOptions; maxCommands: number; writer: StepWriter },
): Promise<void> {
  const planner = new TimelinePlanner(inputs, plan);
  let stepFrom = from;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    planner.plan(event);
    if (planner.step.weight >= maxCommands && i < events.length - 1) {
      await writer.write(planner.nextStep(), event.position, stepFrom);
      stepFrom = event.position;
    }
  }
  await writer.write(planner.nextStep(), upTo, stepFrom);
}
