// `imghost verify`: checks that every image's original, thumbnail and variants are stored whole,
// and that the records keep the server's rules (verify-records.ts); prints each damaged image and
// a summary; exit code 1 when anything is damaged, so scripts and cron can alert. A damaged
// variant is damage too (a corrupt one would be served as it is), but one that can be repaired:
// `--repair` forgets it, and it is made again on its next request. `--repair` also makes images
// of owners who are no users anonymous and takes down again images of taken-down bytes.
import type { Invocation } from '../config/parse.js';
import { openRepo, openStore } from '../open-storage.js';
import { forgetVariants, verifyLibrary, type Damage } from '../verify.js';
import { recordProblems, repairRecords, type RecordProblem } from '../verify-records.js';
import { progressReporter } from './progress.js';

const print = (line: string): void => { process.stdout.write(`${line}\n`); };

interface Finding { id: string; problems: string[]; repairable: boolean }

/** One finding per image, its blobs' problems first; repairable when --repair leaves nothing of it wrong (or nothing of it). */
function findings(damaged: readonly Damage[], records: readonly RecordProblem[]): Finding[] {
  const byId = new Map<string, Finding>(damaged.map((d) => [d.id, { id: d.id, problems: [...d.problems], repairable: d.variantsOnly }]));
  const removed = new Set(records.filter((r) => typeof r.repair === 'object' && r.repair !== null).map((r) => r.id));
  for (const { id, problem, repair } of records) {
    const finding = byId.get(id) ?? { id, problems: [], repairable: true };
    finding.problems.push(problem);
    finding.repairable = removed.has(id) || (finding.repairable && repair !== null);
    byId.set(id, finding);
  }
  return [...byId.values()];
}

export async function verify({ config }: Invocation): Promise<number> {
  const repo = await openRepo(config, 'existing');
  try {
    const store = await openStore(config, 'existing');
    const progress = progressReporter('images');
    const report = await verifyLibrary(repo, store, config.verify_concurrency, progress.update).finally(progress.stop);
    const records = await recordProblems(repo);
    const found = findings(report.damaged, records);
    for (const { id, problems } of found) print(`damaged ${id}: ${problems.join('; ')}`);
    const forgotten = report.damagedVariants.length;
    let repaired = 0;
    if (records.some((r) => r.repair === null)) {
      print('an image past its view limit is served no more, and the expiry sweep (or imghost gc) removes expired images');
    }
    if (config.repair) {
      await forgetVariants(repo, store, report.damagedVariants);
      repaired = await repairRecords(repo, store, records);
    } else {
      if (records.some((r) => r.repair !== null)) {
        print('run with --repair to make the images of owners who are no users anonymous and take down again the images of taken-down bytes');
      }
      if (forgotten > 0) print('variants are made again on request: run with --repair to forget the damaged ones');
    }
    const remaining = config.repair ? found.filter((finding) => !finding.repairable) : found;
    print(`verify: ${String(report.checked)} images checked, ${String(remaining.length)} damaged`
      + (config.repair && forgotten > 0 ? `, ${String(forgotten)} damaged variants forgotten` : '')
      + (repaired > 0 ? `, ${String(repaired)} images repaired` : ''));
    return remaining.length === 0 ? 0 : 1;
  } finally {
    await repo.close();
  }
}
