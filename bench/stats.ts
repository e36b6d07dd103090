// Summaries of repeated measurements: medians across runs, percentiles within one.

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

/** Runs `measure` `runs` times, one after the other. */
export async function repeat<T>(runs: number, measure: (run: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let run = 0; run < runs; run++) results.push(await measure(run));
  return results;
}

/** Rounds for printing: 3 significant digits, enough to compare runs. */
export function round(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return Number(value.toFixed(digits));
}

/** a / b rounded, or null when either side is missing. */
export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : round(a / b);
}

/**
 * The median over rounds of a[i] / b[i], each pair measured moments apart: drift of the machine
 * between rounds, which moves both, cancels out of it. Null without pairs.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number | null {
  const ratios = a.flatMap((value, i) => { const other = b[i]; return other === undefined || other === 0 ? [] : [value / other]; });
  return ratios.length > 0 ? round(median(ratios)) : null;
}
