// `imghost migrate-store` and `imghost migrate-db`: copy a library to new storage with a
// progress bar. Run again after an interruption: what was copied is skipped.
import { SingleBar, Presets } from 'cli-progress';
import type { Invocation } from '../config/parse.js';
import { ConfigError } from '../config/parse.js';
import { migrateDb, migrateStore, type Progress } from '../migrate.js';
import { openRepo, openStore } from '../storage.js';

function endpoints({ config }: Invocation): { from: string; to: string } {
  if (config.from === '' || config.to === '') throw new ConfigError('give both --from and --to');
  if (config.from === config.to) throw new ConfigError('--from and --to name the same place');
  return { from: config.from, to: config.to };
}

/** A bar on a terminal; plain lines (every 10%) in logs and pipes. */
export function progressReporter(what: string): { update: (p: Progress) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${what} [{bar}] {percentage}% | {value}/{total}`, stream: process.stderr }, Presets.shades_classic);
    let started = false;
    return {
      update: ({ total, done }) => {
        if (!started) { bar.start(total, done); started = true; } else bar.update(done);
      },
      stop: () => { bar.stop(); },
    };
  }
  let lastDecile = -1;
  return {
    update: ({ total, done }) => {
      const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      process.stderr.write(`${what}: ${String(done)}/${String(total)}\n`);
    },
    stop: () => undefined,
  };
}

export async function migrateStoreCommand(invocation: Invocation): Promise<number> {
  const { from, to } = endpoints(invocation);
  const { config } = invocation;
  const [source, destination] = await Promise.all([openStore({ ...config, store: from }), openStore({ ...config, store: to })]);
  const progress = progressReporter('blobs');
  const result = await migrateStore(source, destination, config.migrate_concurrency, progress.update).finally(progress.stop);
  for (const { key, reason } of result.failed) process.stdout.write(`failed ${key}: ${reason}\n`);
  process.stdout.write(`migrate-store: ${String(result.copied)} copied, ${String(result.skipped)} already there, ${String(result.failed.length)} failed\n`);
  return result.failed.length === 0 ? 0 : 1;
}

export async function migrateDbCommand(invocation: Invocation): Promise<number> {
  const { from, to } = endpoints(invocation);
  const { config } = invocation;
  const source = await openRepo({ ...config, db: from });
  try {
    const destination = await openRepo({ ...config, db: to });
    try {
      const progress = progressReporter('records');
      const result = await migrateDb(source, destination, progress.update).finally(progress.stop);
      process.stdout.write(`migrate-db: ${String(result.copied)} copied, ${String(result.skipped)} already there\n`);
      return 0;
    } finally {
      await destination.close();
    }
  } finally {
    await source.close();
  }
}
