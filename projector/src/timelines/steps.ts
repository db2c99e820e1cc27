import type { DecodedEvent, Position } from '@tweeter/shared';
import type { FollowGraph } from './followGraph.ts';
import { TimelinePlanner, type PlanOptions } from './plan.ts';
import type { StepWriter } from './stepTransaction.ts';

/**
 * Applies a batch in steps of about `maxCommands` timeline writes, so that one EXEC blocks Redis
 * for tens of milliseconds, not seconds; each step carries its own checkpoint (its last event's
 * position, the batch's `upTo` for the last step). Steps are pipelined: each step's EXEC is sent
 * before the next step is planned, so Redis executes one step while this process plans the next;
 * a step is sent only after the previous one was acknowledged (its checkpoint is the next step's
 * `from`).
 */
export async function applyInSteps(
  events: DecodedEvent[],
  upTo: Position,
  from: Position | null,
  {
    graph,
    plan,
    maxCommands,
    writer,
  }: { graph: FollowGraph; plan: PlanOptions; maxCommands: number; writer: StepWriter },
): Promise<void> {
  let executing: Promise<void> | undefined;
  try {
    let planner = new TimelinePlanner(graph, plan);
    let stepFrom = from;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      planner.plan(event);
      if (planner.weight >= maxCommands && i < events.length - 1) {
        await executing;
        executing = (await writer.send(planner.ops, event.position, stepFrom)).done;
        executing.catch(() => undefined);
        stepFrom = event.position;
        planner = new TimelinePlanner(graph, plan);
      }
    }
    await executing;
    await (
      await writer.send(planner.ops, upTo, stepFrom)
    ).done;
  } catch (error) {
    await executing?.catch(() => undefined);
    throw error;
  }
}
