// `imghost migrate-store` and `imghost migrate-db`: copy a library to new storage, reporting
// progress. Run again after an interruption: what was copied is skipped.
import type { Invocation } from '../config/parse.js';
import { ConfigError } from '../errors.js';
import { migrateDb, migrateStore } from '../migrate.js';
import { openRepo, openStore } from '../open-storage.js';
import { progressReporter } from './progress.js';

function endpoints({ config }: Invocation): { from: string; to: string } {
  if (config.from === '' || config.to === '') throw new ConfigError('give both --from and --to');
  if (config.from === config.to) throw new ConfigError('--from and --to name the same place');
  return { from: config.from, to: config.to };
}

export async function migrateStoreCommand(invocation: Invocation): Promise<number> {
  const { from, to } = endpoints(invocation);
  const { config } = invocation;
  // The destination is made only once the source is known to be there.
  const source = await openStore({ ...config, store: from }, 'existing');
  const destination = await openStore({ ...config, store: to });
  const progress = progressReporter('blobs');
  const result = await migrateStore(source, destination, config.migrate_concurrency, progress.update).finally(progress.stop);
  for (const { key, reason } of result.failed) process.stdout.write(`failed ${key}: ${reason}\n`);
  process.stdout.write(`migrate-store: ${String(result.copied)} copied, ${String(result.skipped)} already there, ${String(result.failed.length)} failed\n`);
  return result.failed.length === 0 ? 0 : 1;
}

export async function migrateDbCommand(invocation: Invocation): Promise<number> {
  const { from, to } = endpoints(invocation);
  const { config } = invocation;
  const source = await openRepo({ ...config, db: from }, 'existing');
  try {
    const destination = await openRepo({ ...config, db: to });
    try {
      const progress = progressReporter('records');
      const result = await migrateDb(source, destination, progress.update).finally(progress.stop);
      const { variants, takedowns, accounts } = result;
      process.stdout.write(`migrate-db: ${String(result.copied)} copied, ${String(result.skipped)} already there; `
        + `variants: ${String(variants.copied)} copied, ${String(variants.skipped)} already there; `
        + `takedowns: ${String(takedowns.copied)} copied, ${String(takedowns.skipped)} already there, ${String(takedowns.logEntries)} log entries copied\n`
        + `migrate-db: ${String(accounts.users)} users and ${String(accounts.keys)} API keys copied\n`);
      return 0;
    } finally {
      await destination.close();
    }
  } finally {
    await source.close();
  }
}
