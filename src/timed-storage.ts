// The database and blob store with every asynchronous operation timed and its failures counted,
// by adapter and operation, for the metrics. A view over the adapter, not a copy: everything
// that is not a method returning a promise (fields, iterators, synchronous helpers) is the
// adapter's own, and the adapter calls its own methods untimed.
import { stat } from 'node:fs/promises';
import type { HistogramSeries } from './metric-series.js';
import type { Metrics, StorageKind } from './metrics.js';
import type { ImageRepo } from './repo/index.js';
import type { BlobStore } from './store/index.js';

/** The parts of a repository that are repositories of their own, timed as `<part>.<method>`. */
const REPO_PARTS = ['takedowns', 'visibility', 'accounts', 'integrity', 'sharedHits'] as const;

/** `SqliteRepo` → `sqlite`, `S3Store` → `s3`: a bounded label. */
const adapterName = (target: object): string => target.constructor.name.replace(/(Repo|Store)$/, '').toLowerCase();

function methodNames(target: object): string[] {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(target) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, name)?.value === 'function') names.add(name);
    }
  }
  return [...names];
}

function timed<T extends object>(target: T, metrics: Metrics, kind: StorageKind, adapter: string, prefix = ''): T {
  const view = Object.create(target) as Record<string, unknown>;
  for (const name of methodNames(target)) {
    const method = (target as Record<string, (...args: unknown[]) => unknown>)[name];
    if (method === undefined) continue;
    const labels = { adapter, operation: prefix + name };
    // Looked up on first use, then kept: an operation never used shows no series.
    let seconds: HistogramSeries | undefined;
    view[name] = (...args: unknown[]) => {
      const start = performance.now();
      const result = method.apply(target, args);
      if (!(result instanceof Promise)) return result;
      return result.then((value: unknown) => {
        (seconds ??= metrics.operationSeconds[kind].series(labels)).observe((performance.now() - start) / 1000);
        return value;
      }, (err: unknown) => {
        (seconds ??= metrics.operationSeconds[kind].series(labels)).observe((performance.now() - start) / 1000);
        metrics.operationErrors[kind].series(labels).inc();
        throw err;
      });
    };
  }
  return view as T;
}

export function timedRepo(repo: ImageRepo, metrics: Metrics): ImageRepo {
  const adapter = adapterName(repo);
  const view = timed(repo, metrics, 'db', adapter) as ImageRepo & Record<string, unknown>;
  for (const part of REPO_PARTS) {
    const inner = repo[part];
    if (inner !== undefined) Object.defineProperty(view, part, { value: timed(inner, metrics, 'db', adapter, `${part}.`) });
  }
  return view;
}

/** The store, timed, with the bytes it is given to keep counted. */
export function timedStore(store: BlobStore, metrics: Metrics): BlobStore {
  const view = timed(store, metrics, 'store', adapterName(store));
  const put = view.put.bind(view);
  view.put = async (key, source, mime) => {
    // Before the put: the store may move the file away.
    const bytes = Buffer.isBuffer(source) ? source.length : (await stat(source.path)).size;
    await put(key, source, mime);
    metrics.storedBytes.inc(bytes);
  };
  return view;
}
