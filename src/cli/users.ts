// `imghost users add|list|set|remove`: the people who may upload with their own API keys (see
// keys.ts), and what each may store. A quota counts the bytes of the user's originals, each in full
// even when another image has the same bytes; thumbnails and variants are not counted.
import { formatBytes } from '../bytes.js';
import { parseSize, type Invocation } from '../config/parse.js';
import { ConfigError, NotFound } from '../errors.js';
import { newId } from '../ids.js';
import { Library } from '../library.js';
import { requireLibrary } from '../open-storage.js';
import type { Limits } from '../repo/accounts.js';
import type { ImageRecord } from '../repo/index.js';
import { argument, bytesLimit, countLimit, printTable, requireUser, withRepo } from './accounts.js';

/** Images read at a time when a removed user's images are deleted. */
const PAGE = 100;

const NAME = /^[\p{L}\p{N}._@+-]{1,64}$/u;

/** A limit option as given: undefined when not given, null for `0` or `none` (no limit). */
function limit(text: string, option: string, parse: (text: string) => number | null): number | null | undefined {
  if (text === '') return undefined;
  if (text === '0' || text.toLowerCase() === 'none') return null;
  return parse(text) ?? (() => { throw new ConfigError(`option '--${option}': expected a positive number, 0 or none, got '${text}'`); })();
}

const limitsOf = (config: Invocation['config']): Partial<Limits> => ({
  quotaBytes: limit(config.quota, 'quota', parseSize),
  maxImages: limit(config.max_images, 'max_images', (text) => (/^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : null)),
});

const describe = (limits: Limits): string => `quota ${bytesLimit(limits.quotaBytes)}, max images ${countLimit(limits.maxImages)}`;

const subcommands: Record<string, (invocation: Invocation) => Promise<number>> = {
  async add({ args, config }) {
    const name = argument(args, 'user name', 'users add NAME');
    if (!NAME.test(name)) throw new ConfigError(`users add: '${name}' is not a user name (1 to 64 letters, digits and . _ @ + -)`);
    const { quotaBytes = null, maxImages = null } = limitsOf(config);
    return withRepo(config, 'create', async ({ accounts }) => {
      if (await accounts.userByName(name)) throw new ConfigError(`there is already a user named '${name}'`);
      await accounts.addUser({ id: newId(), name, quotaBytes, maxImages, createdAt: new Date() });
      process.stdout.write(`added user ${name}: ${describe({ quotaBytes, maxImages })}\n`);
      return 0;
    });
  },

  async list({ args, config }) {
    if (args.length > 0) throw new ConfigError(`users list: unexpected argument '${args.join(' ')}'`);
    return withRepo(config, 'existing', async ({ accounts }) => {
      const [users, keys] = await Promise.all([accounts.users(), accounts.keys()]);
      const rows = await Promise.all(users.map(async (user) => {
        const usage = await accounts.usage(user.id);
        return [user.name, bytesLimit(user.quotaBytes), formatBytes(usage.bytes), String(usage.images), countLimit(user.maxImages),
          String(keys.filter((key) => key.userId === user.id).length)];
      }));
      printTable(['NAME', 'QUOTA', 'USED', 'IMAGES', 'MAX IMAGES', 'KEYS'], rows);
      return 0;
    });
  },

  async set({ args, config }) {
    const name = argument(args, 'user name', 'users set NAME');
    const limits = limitsOf(config);
    if (limits.quotaBytes === undefined && limits.maxImages === undefined) {
      throw new ConfigError('users set: give --quota=BYTES and/or --max_images=N (0 or none lifts a limit)');
    }
    return withRepo(config, 'existing', async ({ accounts }) => {
      const user = await requireUser(accounts, name);
      await accounts.setLimits(user.id, limits);
      const { quotaBytes = user.quotaBytes, maxImages = user.maxImages } = limits;
      process.stdout.write(`user ${name}: ${describe({ quotaBytes, maxImages })}\n`);
      return 0;
    });
  },

  async remove({ args, config }) {
    const name = argument(args, 'user name', 'users remove NAME');
    if (!config.delete_images) {
      return withRepo(config, 'existing', async ({ accounts }) => {
        const disowned = await accounts.removeUser((await requireUser(accounts, name)).id);
        process.stdout.write(`removed user ${name} and their keys; their ${String(disowned.length)} images stay, anonymous\n`);
        return 0;
      });
    }
    await requireLibrary(config);
    const library = await Library.open(config);
    try {
      const { accounts } = library.repo;
      const user = await requireUser(accounts, name);
      let deleted = 0;
      // Page by page while the user is still there, so a run stopped half-way is simply run again.
      for (let page = await accounts.imagesOf(user.id, PAGE); page.length > 0; page = await accounts.imagesOf(user.id, PAGE)) {
        deleted += await removeImages(library, page);
      }
      // Then the rest, which removing the user hands back: uploads still in flight (pending), and
      // any stored meanwhile. An upload in flight then fails rather than keeping its image.
      deleted += await removeImages(library, await accounts.removeUser(user.id));
      process.stdout.write(`removed user ${name}, their keys and ${String(deleted)} images\n`);
      return 0;
    } finally {
      await library.close();
    }
  },
};

/** Deletes these images and their files; one deleted meanwhile (by its owner, gc) is skipped. How many this deleted. */
export async function removeImages(library: Library, images: readonly ImageRecord[]): Promise<number> {
  let deleted = 0;
  for (const image of images) {
    try {
      await library.remove(image);
      deleted++;
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
    }
  }
  return deleted;
}

export async function users(invocation: Invocation): Promise<number> {
  const [name = '', ...args] = invocation.args;
  const run = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!run) throw new ConfigError(`users: expected add, list, set or remove, got '${name}'`);
  return run({ ...invocation, args });
}
