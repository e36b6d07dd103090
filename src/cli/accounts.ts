// What the `users` and `keys` commands share: opening the library's database, finding a user by
// name, and printing aligned columns and limits.
import { formatBytes } from '../bytes.js';
import type { Config } from '../config/options.js';
import { ConfigError } from '../errors.js';
import { openRepo, type OpenMode } from '../open-storage.js';
import type { AccountRepo, User } from '../repo/accounts.js';
import type { ImageRepo } from '../repo/index.js';

/** Runs `work` on the library's database, closing it after. */
export async function withRepo<T>(config: Config, mode: OpenMode, work: (repo: ImageRepo) => Promise<T>): Promise<T> {
  const repo = await openRepo(config, mode);
  try {
    return await work(repo);
  } finally {
    await repo.close();
  }
}

/** The one positional argument a subcommand takes, e.g. `users add NAME`. */
export function argument(args: readonly string[], what: string, usage: string): string {
  const [value, ...rest] = args;
  if (value === undefined || value === '') throw new ConfigError(`${usage}: which ${what}?`);
  if (rest.length > 0) throw new ConfigError(`${usage}: unexpected argument '${rest.join(' ')}'`);
  return value;
}

export async function requireUser(accounts: AccountRepo, name: string): Promise<User> {
  const user = await accounts.userByName(name);
  if (!user) throw new ConfigError(`there is no user named '${name}' (see imghost users list)`);
  return user;
}

export const bytesLimit = (limit: number | null): string => (limit === null ? 'no limit' : formatBytes(limit));
export const countLimit = (limit: number | null): string => (limit === null ? 'no limit' : String(limit));
export const when = (date: Date | null): string => (date === null ? 'never' : date.toISOString().replace(/\.\d+Z$/, 'Z'));

/** Prints rows under a header, each column as wide as its widest cell. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  for (const row of [header, ...rows]) {
    process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
  }
}
