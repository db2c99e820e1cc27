import type { RunnerStatus } from '../runtime/runner.ts';

/**
 * The running projector's `/status`, or null when none answers at `baseUrl` (stopped, another
 * host, another port): callers then derive what they can from the locks and checkpoints.
 */
export async function fetchProjectorStatus(
  baseUrl: string,
  timeoutMs = 1500,
): Promise<RunnerStatus[] | null> {
  try {
    const response = await fetch(`${baseUrl}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return null;
    const body = (await response.json()) as { projections?: RunnerStatus[] };
    return Array.isArray(body.projections) ? body.projections : null;
  } catch {
    return null;
  }
}
