// Progress of the long commands (verify, migrate-*, backup, restore), on stderr so stdout keeps
// only their results. On a terminal, a bar redrawn in place; in a pipe or a log, where every
// redraw would be a line of its own, a start line, a line at each further tenth (never more often
// than every few seconds; at least every minute while it is slow) and a closing line.
import { Presets, SingleBar } from 'cli-progress';
import type { Progress } from '../progress.js';

export interface ProgressReporter {
  update: (progress: Progress) => void;
  stop: () => void;
}

/** Where the lines go, and the clock: a test gives its own. */
export interface ProgressOutput {
  stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;
  now: () => number;
}

/** Progress lines in a log are at least this far apart... */
const MIN_INTERVAL_MS = 5_000;
/** ...and at most this far apart while nothing passes a tenth. */
const HEARTBEAT_MS = 60_000;

/** Reports progress through `what` (a plural noun: images, blobs, records). */
export function progressReporter(what: string,
  { stream, now }: ProgressOutput = { stream: process.stderr, now: Date.now }): ProgressReporter {
  return stream.isTTY ? barReporter(what, stream) : lineReporter(what, stream, now);
}

function barReporter(what: string, stream: ProgressOutput['stream']): ProgressReporter {
  const bar = new SingleBar({ format: `${what} [{bar}] {percentage}% | {value}/{total}`, stream: stream as NodeJS.WriteStream },
    Presets.shades_classic);
  let started = false;
  return {
    update: ({ total, done }) => {
      if (started) {
        bar.update(done);
      } else {
        bar.start(total, done);
        started = true;
      }
    },
    stop: () => { bar.stop(); },
  };
}

function lineReporter(what: string, stream: ProgressOutput['stream'], now: () => number): ProgressReporter {
  let started: number | null = null;
  let last = 0;
  let lastTenth = 0;
  let latest: Progress = { total: 0, done: 0 };
  const write = (line: string): void => { stream.write(`${what}: ${line}\n`); };
  return {
    update: (progress) => {
      latest = progress;
      const time = now();
      if (started === null) {
        started = last = time;
        write(`${String(progress.done)}/${String(progress.total)}, starting`);
        return;
      }
      const tenth = progress.total === 0 ? 10 : Math.floor((progress.done / progress.total) * 10);
      const since = time - last;
      if (progress.done === progress.total || since < MIN_INTERVAL_MS) return;
      if (tenth > lastTenth || since >= HEARTBEAT_MS) {
        last = time;
        lastTenth = tenth;
        write(`${String(progress.done)}/${String(progress.total)} (${String(Math.floor((progress.done / progress.total) * 100))}%)`);
      }
    },
    stop: () => {
      if (started === null) return;
      write(`${String(latest.done)}/${String(latest.total)} in ${((now() - started) / 1000).toFixed(1)} s`);
    },
  };
}
