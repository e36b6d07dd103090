// Background work repeated on a timer without ever overlapping itself: the next run is timed from
// the end of the last, so a run slower than its period delays the next rather than runs beside it.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Runs `work` `periodMs` after the start, then `periodMs` after each run ended, until `signal`
 * aborts; settles once the run in progress, if any, has finished. The timer keeps no process
 * alive. `work` must handle its own failures.
 */
export async function repeatUntilAborted(periodMs: number, signal: AbortSignal, work: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    try {
      await sleep(periodMs, undefined, { signal, ref: false });
    } catch {
      return; // aborted while waiting: nothing is running
    }
    await work();
  }
}
