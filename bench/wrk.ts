// GETs at saturation through wrk (Debian's `wrk`, written in C): one thread of it drives nginx
// several times faster than a Node server answers, so what it measures is the server, not the
// client. A Lua script cycles each connection's requests through a list of paths and prints the
// totals as JSON when the run ends.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { treeCpuMsTotal } from './proc-tree.js';
import { median, repeat } from './stats.js';

const run = promisify(execFile);

/** Where Debian's package installs it (scripts/bench-deps.sh). */
const WRK = '/usr/bin/wrk';

export const wrkInstalled = (): boolean => existsSync(WRK);

export interface WrkLoad {
  connections: number;
  seconds: number;
  /** wrk threads; one is enough to saturate a server on loopback. */
  threads?: number;
  headers?: Record<string, string>;
}

export interface WrkResult {
  requests: number;
  requestsPerSecond: number;
  bytesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** What the script's done() prints: wrk's summary, times in microseconds. */
interface Summary {
  requests: number;
  duration_us: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  p50_us: number;
  p99_us: number;
}

const MARK = 'wrk-summary ';

/** Lua source cycling through `paths`; requests are formatted once, in init, not per request. */
function script(paths: readonly string[], headers: Record<string, string>): string {
  const lua = (value: string): string => JSON.stringify(value); // a JSON string is a valid Lua string here: ASCII paths and headers
  const headerTable = Object.entries(headers).map(([name, value]) => `[${lua(name)}] = ${lua(value)}`).join(', ');
  return `local paths = { ${paths.map(lua).join(', ')} }
local formatted = {}
local turn = 0
function init(args)
  for i, path in ipairs(paths) do formatted[i] = wrk.format("GET", path, { ${headerTable} }) end
end
function request()
  turn = turn % #formatted + 1
  return formatted[turn]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${MARK}{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

/**
 * GETs `paths` of `url` round-robin for `load.seconds` on `load.connections` keep-alive
 * connections. Fails on any error: a refused connection, a timeout, a status of 400 or more.
 */
export async function wrk(url: string, paths: readonly string[], load: WrkLoad): Promise<WrkResult> {
  if (paths.length === 0) throw new Error('wrk: no paths to request');
  const dir = await mkdtemp(join(tmpdir(), 'imghost-wrk-'));
  try {
    const file = join(dir, 'paths.lua');
    await writeFile(file, script(paths, load.headers ?? {}));
    const { stdout } = await run(WRK, [`--threads=${String(load.threads ?? 1)}`, `--connections=${String(load.connections)}`,
      `--duration=${String(load.seconds)}s`, '--timeout=10s', `--script=${file}`, url],
    { timeout: (load.seconds + 30) * 1000, maxBuffer: 1 << 20 });
    const line = stdout.split('\n').find((l) => l.startsWith(MARK));
    if (line === undefined) throw new Error(`wrk printed no summary: ${stdout}`);
    const summary = JSON.parse(line.slice(MARK.length)) as Summary;
    const errors = Object.entries(summary.errors).filter(([, count]) => count > 0);
    if (errors.length > 0) throw new Error(`GET load on ${url} (wrk): ${errors.map(([kind, count]) => `${String(count)} ${kind} errors`).join(', ')}`);
    const seconds = summary.duration_us / 1e6;
    return {
      requests: summary.requests,
      requestsPerSecond: summary.requests / seconds,
      bytesPerSecond: summary.bytes / seconds,
      p50Ms: summary.p50_us / 1000,
      p99Ms: summary.p99_us / 1000,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A wrk run with the CPU the process trees of the server (`pids`) spent per request meanwhile:
 * all together, and each tree's share in the order of `pids`.
 */
export interface Measured { load: WrkResult; cpuUsPerRequest: number; cpuUsEach: number[] }

export async function measuredWrk(url: string, pids: readonly number[], paths: readonly string[], load: WrkLoad): Promise<Measured> {
  const cpu = () => Promise.all(pids.map(treeCpuMsTotal));
  const before = await cpu();
  const result = await wrk(url, paths, load);
  const cpuUsEach = (await cpu()).map((ms, i) => ((ms - (before[i] ?? 0)) * 1000) / result.requests);
  return { load: result, cpuUsPerRequest: cpuUsEach.reduce((sum, us) => sum + us, 0), cpuUsEach };
}

/** The run of median request rate. */
export function medianRun(runs: readonly Measured[]): Measured {
  const middle = median(runs.map((r) => r.load.requestsPerSecond));
  return runs.find((r) => r.load.requestsPerSecond === middle) ?? runs[0] as Measured;
}

/** A server to load: its URL, the pids whose process trees' CPU is its cost, the paths it answers. */
export interface Target { url: string; pids: readonly number[]; paths: readonly string[] }

/**
 * Each target warmed (JIT, caches, nginx's open-file cache), then loaded in turn, `runs` times:
 * each round's measurements, taken seconds apart, so that the machine's drift falls on all.
 */
export async function alternateRounds<K extends string>(
  runs: number, targets: Record<K, Target | null>, load: WrkLoad,
): Promise<Partial<Record<K, Measured>>[]> {
  const entries = Object.entries(targets) as [K, Target | null][];
  for (const [, target] of entries) if (target) await wrk(target.url, target.paths, { ...load, seconds: 1 });
  return repeat(runs, async () => {
    const run: Partial<Record<K, Measured>> = {};
    for (const [name, target] of entries) if (target) run[name] = await measuredWrk(target.url, target.pids, target.paths, load);
    return run;
  });
}

/** One target's run in each round, and the median one. */
export interface Rounds { each: Measured[]; median: Measured }

/** `name`'s runs over `rounds`; null when it was not measured. */
export function roundsOf<K extends string>(rounds: readonly Partial<Record<K, Measured>>[], name: K): Rounds | null {
  const each = rounds.flatMap((run) => run[name] ?? []);
  return each.length > 0 ? { each, median: medianRun(each) } : null;
}

/** Like alternateRounds: the median run of each target. */
export async function alternate<K extends string>(runs: number, targets: Record<K, Target | null>, load: WrkLoad): Promise<Record<K, Measured | null>> {
  const rounds = await alternateRounds(runs, targets, load);
  return Object.fromEntries((Object.keys(targets) as K[]).map((name) => [name, roundsOf(rounds, name)?.median ?? null])) as Record<K, Measured | null>;
}
