// `imghost keys add|list|revoke`: the API keys users upload with (`Authorization: Bearer KEY`, or
// the upload page's token field). A key is printed once, when it is made; only its SHA-256 is kept.
import type { Invocation } from '../config/parse.js';
import { ConfigError } from '../errors.js';
import { sha256 } from '../hash.js';
import { newId, randomToken } from '../ids.js';
import { argument, printTable, requireUser, when, withRepo } from './accounts.js';

/** 256 random bits; the prefix tells a leaked key for what it is (secret scanners look for such). */
const newKey = (): string => `ihk_${randomToken(32)}`;

const subcommands: Record<string, (invocation: Invocation) => Promise<number>> = {
  async add({ args, config }) {
    const name = argument(args, 'user name', 'keys add NAME');
    return withRepo(config, 'existing', async ({ accounts }) => {
      const user = await requireUser(accounts, name);
      const key = newKey(), id = newId();
      await accounts.addKey({ id, userId: user.id, keyHash: sha256(key), label: config.label === '' ? null : config.label, createdAt: new Date() });
      process.stdout.write(`${key}\n`);
      process.stderr.write(`added key ${id} for ${name}: it is shown only this once\n`);
      return 0;
    });
  },

  async list({ args, config }) {
    if (args.length > 1) throw new ConfigError(`keys list: unexpected argument '${args.slice(1).join(' ')}'`);
    return withRepo(config, 'existing', async ({ accounts }) => {
      const [name] = args;
      const user = name === undefined ? undefined : await requireUser(accounts, name);
      const keys = await accounts.keys(user?.id);
      printTable(['ID', 'USER', 'LABEL', 'CREATED', 'LAST USED'],
        keys.map((key) => [key.id, key.userName, key.label ?? '', when(key.createdAt), when(key.lastUsedAt)]));
      return 0;
    });
  },

  async revoke({ args, config }) {
    const id = argument(args, 'key id', 'keys revoke KEY_ID');
    return withRepo(config, 'existing', async ({ accounts }) => {
      if (!(await accounts.revokeKey(id))) throw new ConfigError(`there is no key ${id} (see imghost keys list)`);
      process.stdout.write(`revoked key ${id}\n`);
      return 0;
    });
  },
};

export async function keys(invocation: Invocation): Promise<number> {
  const [name = '', ...args] = invocation.args;
  const run = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!run) throw new ConfigError(`keys: expected add, list or revoke, got '${name}'`);
  return run({ ...invocation, args });
}
