// `imghost verify`: checks that every image's original, thumbnail and variants are stored whole,
// prints each damaged image and a summary; exit code 1 when anything is damaged, so scripts and
// cron can alert. A damaged variant is damage too (a corrupt one would be served as it is), but
// one that can be repaired: `--repair` forgets it, and it is made again on its next request.
import type { Invocation } from '../config/parse.js';
import { openRepo, openStore } from '../open-storage.js';
import { forgetVariants, verifyLibrary } from '../verify.js';
import { progressReporter } from './progress.js';

export async function verify({ config }: Invocation): Promise<number> {
  const repo = await openRepo(config, 'existing');
  try {
    const store = await openStore(config, 'existing');
    const progress = progressReporter('images');
    const report = await verifyLibrary(repo, store, config.verify_concurrency, progress.update).finally(progress.stop);
    for (const { id, problems } of report.damaged) process.stdout.write(`damaged ${id}: ${problems.join('; ')}\n`);
    const forgotten = report.damagedVariants.length;
    if (config.repair) await forgetVariants(repo, store, report.damagedVariants);
    else if (forgotten > 0) process.stdout.write('variants are made again on request: run with --repair to forget the damaged ones\n');
    const remaining = config.repair ? report.damaged.filter((damage) => !damage.variantsOnly) : report.damaged;
    process.stdout.write(`verify: ${String(report.checked)} images checked, ${String(remaining.length)} damaged`
      + `${config.repair && forgotten > 0 ? `, ${String(forgotten)} damaged variants forgotten` : ''}\n`);
    return remaining.length === 0 ? 0 : 1;
  } finally {
    await repo.close();
  }
}
