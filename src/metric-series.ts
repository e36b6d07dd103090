// Counters and histograms for the hot paths (every request, every database and store operation):
// a series is looked up once and counted on with plain arithmetic, where prom-client's own
// validate and hash their labels on every observation (about a microsecond: a few percent of a
// thumbnail GET answered from memory). They register in a prom-client Registry, which formats
// them at a scrape and sums them over the workers of a cluster as it does its own.
import type { Metric, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface Value { labels: Record<string, string | number>; value: number; metricName?: string }

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void { this.value += by; }
}

export class HistogramSeries {
  count = 0;
  sum = 0;
  /** Observations per bucket, not cumulative: each lands in the first bucket it fits. */
  readonly hits: Float64Array;

  constructor(readonly labels: Labels, private readonly bounds: readonly number[]) {
    this.hits = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] ?? Infinity)) {
        this.hits[i] = (this.hits[i] ?? 0) + 1;
        return;
      }
    }
  }
}

abstract class Family<S extends { labels: Labels }> {
  private readonly all = new Map<string, S>();

  constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'histogram', registry: Registry) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values, made on first use: keep it and count on it. */
  series(labels: Labels): S {
    const key = JSON.stringify(labels);
    let series = this.all.get(key);
    if (!series) {
      series = this.make(labels);
      this.all.set(key, series);
    }
    return series;
  }

  /** What prom-client's Registry formats and its AggregatorRegistry sums. */
  get(): { name: string; help: string; type: string; aggregator: 'sum'; values: Value[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values: [...this.all.values()].flatMap((s) => this.values(s)) };
  }

  reset(): void { this.all.clear(); }

  protected abstract make(labels: Labels): S;
  protected abstract values(series: S): Value[];
}

export class FastCounter extends Family<CounterSeries> {
  constructor(name: string, help: string, registry: Registry) { super(name, help, 'counter', registry); }
  protected make(labels: Labels): CounterSeries { return new CounterSeries(labels); }
  protected values(series: CounterSeries): Value[] { return [{ labels: { ...series.labels }, value: series.value }]; }
}

export class FastHistogram extends Family<HistogramSeries> {
  constructor(name: string, help: string, private readonly bounds: readonly number[], registry: Registry) { super(name, help, 'histogram', registry); }
  protected make(labels: Labels): HistogramSeries { return new HistogramSeries(labels, this.bounds); }

  protected values(series: HistogramSeries): Value[] {
    let cumulative = 0;
    const buckets = this.bounds.map((le, i) => {
      cumulative += series.hits[i] ?? 0;
      return { labels: { ...series.labels, le }, value: cumulative, metricName: `${this.name}_bucket` };
    });
    return [
      ...buckets,
      { labels: { ...series.labels, le: '+Inf' }, value: series.count, metricName: `${this.name}_bucket` },
      { labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` },
      { labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` },
    ];
  }
}
