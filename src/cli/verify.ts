// `imghost verify`: checks that every image's original and thumbnail are stored whole, prints each
// damaged image and a summary; exit code 1 when anything is damaged, so scripts and cron can alert.
import type { Invocation } from '../config/parse.js';
import { openRepo, openStore } from '../open-storage.js';
import { verifyLibrary } from '../verify.js';
import { progressReporter } from './progress.js';

export async function verify({ config }: Invocation): Promise<number> {
  const repo = await openRepo(config, 'existing');
  try {
    const store = await openStore(config, 'existing');
    const progress = progressReporter('images');
    const report = await verifyLibrary(repo, store, config.verify_concurrency, progress.update).finally(progress.stop);
    for (const { id, problems } of report.damaged) process.stdout.write(`damaged ${id}: ${problems.join('; ')}\n`);
    process.stdout.write(`verify: ${String(report.checked)} images checked, ${String(report.damaged.length)} damaged\n`);
    return report.damaged.length === 0 ? 0 : 1;
  } finally {
    await repo.close();
  }
}
