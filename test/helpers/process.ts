// Helpers for tests that run imghost as a separate process: free ports, output capture,
// waiting for readiness and for exit. Generic: they know nothing of a particular test.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnCli } from './cli.js';

/** A loopback port nothing listens on right now (the OS picks it; we release it at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve, reject) => {
    server.close((err) => { if (err) reject(err); else resolve(); });
  });
  if (port === 0) throw new Error('no port assigned');
  return port;
}

export interface Output {
  stdout(): string;
  stderr(): string;
}

/** Accumulates a child's stdout and stderr as text. */
export function captureOutput(child: ChildProcess): Output {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return { stdout: () => stdout, stderr: () => stderr };
}

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

/** Resolves when the child has exited and its output streams are closed. */
export function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => { resolve({ code, signal }); });
  });
}

/**
 * Polls `check` until it returns something other than undefined/false, and returns that.
 * Fails with `what` once `timeoutMs` passes; this bounds a wait, it measures nothing.
 */
export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(25);
  }
}

/** Waits until GET `url` answers 200; fails early if `child` exits first. */
export async function waitForHttp(url: string, child: ChildProcess, output?: Output, timeoutMs = 15_000): Promise<void> {
  await eventually(`${url} to answer 200`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process exited (${String(child.exitCode ?? child.signalCode)}) before ${url} answered: ${output?.stderr() ?? ''}`);
    }
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }, timeoutMs);
}

/** Resolves as `promise` does, or fails with `what` once `timeoutMs` passes; bounds a wait, measures nothing. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`gave up waiting for ${what}`)); }, timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Running { child: ChildProcess; output: Output; url: string }

/**
 * Starts `imghost serve ARGS` (which must make it listen on `port`) and waits until /readyz
 * answers 200. The process is killed when the test ends, should the test fail before stopping it.
 */
export async function serveCli(t: TestContext, port: number, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawnCli(['serve', '--address=127.0.0.1', ...args], env);
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
  });
  const output = captureOutput(child);
  const url = `http://127.0.0.1:${String(port)}`;
  await waitForHttp(`${url}/readyz`, child, output);
  return { child, output, url };
}

/** SIGTERMs the server and waits for it to exit. */
export async function stopCli({ child, output }: Running): Promise<void> {
  child.kill('SIGTERM');
  const exit = await within(exitOf(child), 15_000, 'the server to exit after SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, output.stderr());
}
