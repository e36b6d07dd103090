// Runs imghost as users do (`node bin/imghost.js`, the built JavaScript) in its own process on
// loopback, so the benchmark process only drives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { captureOutput, exitOf, freePort, type Output } from '../test/helpers/process.js';
import { root } from '../test/helpers/cli.js';

export interface Imghost {
  url: string;
  child: ChildProcess;
  output: Output;
  /** Milliseconds from spawning the process to /readyz answering 200. */
  readyMs: number;
  /** Resident memory of the process now, and its peak so far, in bytes (Linux /proc). */
  memory(): Promise<{ rss: number; peak: number }>;
  stop(): Promise<void>;
}

/**
 * The load generator is one address standing for many clients, with up to 32 uploads at once: the
 * bounds per client address and on uploads received at once are lifted, so the figures measure
 * the work rather than the refusals that protect it.
 */
const LOAD_GENERATOR_ARGS = ['--max_receiving=64', '--max_uploads_per_client=0', '--max_connections_per_ip=0'];

export async function startImghost(dataDir: string, args: readonly string[] = []): Promise<Imghost> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['bin/imghost.js', 'serve', '--address=127.0.0.1', `--port=${String(port)}`,
    `--data_dir=${dataDir}`, '--logging=warning', ...LOAD_GENERATOR_ARGS, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  const forget = killedWithBench(child);
  const url = `http://127.0.0.1:${String(port)}`;
  try {
    await pollReady(`${url}/readyz`, child, output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const readyMs = performance.now() - started;
  return {
    url, child, output, readyMs,
    memory: () => processMemory(child.pid ?? 0),
    async stop() {
      forget();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const exit = await exitOf(child);
      if (exit.code !== 0) throw new Error(`imghost exited with ${String(exit.code ?? exit.signal)}: ${output.stderr()}`);
    },
  };
}

/** Kills `child` if the benchmark exits first, so a crash leaves no server running; returns the undo. */
export function killedWithBench(child: ChildProcess): () => void {
  const kill = (): void => { child.kill('SIGKILL'); };
  process.once('exit', kill);
  return () => { process.off('exit', kill); };
}

/** Like waitForHttp in test/helpers, but polling often enough to time a start-up of tens of milliseconds. */
async function pollReady(url: string, child: ChildProcess, output: Output): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`imghost exited before it was ready: ${output.stderr()}`);
    }
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${url} to answer 200`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}
