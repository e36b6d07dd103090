// `imghost takedown <id|sha256> [--reason=TEXT]`: removes every image with those bytes, their
// thumbnails, variants and blobs, and refuses the bytes from then on; `--list` prints the
// takedowns in force, `--log` the audit log, `--undo <sha256|id>` lifts one.
import type { Invocation } from '../config/parse.js';
import { ConfigError } from '../errors.js';
import { openRepo, openStore } from '../open-storage.js';
import type { ImageRepo } from '../repo/index.js';
import { takeDown, undoTakedown } from '../takedown.js';

const USAGE = 'usage: imghost takedown <id|sha256> [--reason=TEXT] | takedown --undo <sha256|id> [--reason=TEXT] | takedown --list | takedown --log';

const print = (line: string): void => { process.stdout.write(`${line}\n`); };
const plural = (n: number, what: string): string => `${String(n)} ${what}${n === 1 ? '' : 's'}`;

export async function takedown({ args, config }: Invocation): Promise<number> {
  const reading = config.list || config.log;
  if ([config.list, config.log, config.undo].filter(Boolean).length > 1 || args.length !== (reading ? 0 : 1)) throw new ConfigError(USAGE);
  const reason = config.reason === '' ? null : config.reason;
  const repo = await openRepo(config, 'existing');
  try {
    if (config.list) await list(repo);
    else if (config.log) await log(repo);
    else if (config.undo) await undo(repo, args[0] ?? '', reason);
    else {
      const store = await openStore(config, 'existing');
      try {
        const report = await takeDown(repo, store, args[0] ?? '', reason);
        for (const image of report.removed) print(`removed image ${image.id}`);
        for (const key of report.blobs) print(`deleted blob ${key}`);
        print(`takedown: ${report.hash} is refused from now on; ${plural(report.removed.length, 'image')} removed, ${plural(report.blobs.length, 'blob')} deleted`);
      } finally {
        await store.close();
      }
    }
    return 0;
  } finally {
    await repo.close();
  }
}

async function list(repo: ImageRepo): Promise<void> {
  const takedowns = await repo.takedowns.list();
  for (const t of takedowns) print([t.hash, t.createdAt.toISOString(), plural(t.images, 'image'), t.reason ?? '-'].join('\t'));
  print(`takedown: ${plural(takedowns.length, 'takedown')} in force`);
}

async function log(repo: ImageRepo): Promise<void> {
  for (const entry of await repo.takedowns.log()) {
    print([entry.at.toISOString(), entry.action, entry.hash, plural(entry.images, 'image'), entry.reason ?? '-'].join('\t'));
  }
}

async function undo(repo: ImageRepo, target: string, reason: string | null): Promise<void> {
  const { hash, images } = await undoTakedown(repo, target, reason);
  print(`takedown: ${hash} is accepted again; links of the ${plural(images, 'image')} it removed answer 404 from now on (their deleted files are not restored)`);
}
