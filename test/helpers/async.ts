// Small async tools for tests that control when things happen: promises resolved by hand,
// and waiting for a condition the code under test will make true on its own schedule.
import { setTimeout as sleep } from 'node:timers/promises';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Lets every pending microtask and I/O callback run once. */
export function settle(): Promise<void> {
  return new Promise((resolve) => { setImmediate(resolve); });
}

/**
 * Polls `condition` until it holds. Not a timing assertion: the limit only stops a broken build
 * from hanging, and is far above what the condition normally needs.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(10);
  }
}
