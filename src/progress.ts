// Progress of the long operations (verify, migrate-*, backup, restore); cli/progress.ts shows it.

export interface Progress { total: number; done: number }

export type OnProgress = (p: Progress) => void;

/** Reports that none of `total` is done yet, and returns what reports one more done. */
export function countProgress(total: number, onProgress: OnProgress): () => void {
  let done = 0;
  onProgress({ total, done });
  return () => { onProgress({ total, done: ++done }); };
}
