// `imghost gc`: removes images past their expiry, unfinished uploads whose lease ran out, blobs no image refers to and
// temporary files older than --gc_grace seconds, puts back blobs an interrupted delete left
// parked that an image still needs, and prints what it did.
import type { Invocation } from '../config/parse.js';
import { Library } from '../library.js';
import { requireLibrary } from '../open-storage.js';

export async function gc({ config }: Invocation): Promise<number> {
  await requireLibrary(config);
  const library = await Library.open(config);
  try {
    const report = await library.collectGarbage();
    for (const id of report.expired) process.stdout.write(`removed expired image ${id}\n`);
    for (const id of report.unfinished) process.stdout.write(`removed unfinished upload ${id}\n`);
    for (const key of report.blobs) process.stdout.write(`removed orphan blob ${key}\n`);
    for (const path of report.temp) process.stdout.write(`removed temporary file ${path}\n`);
    for (const key of report.restored) process.stdout.write(`restored parked blob ${key}\n`);
    process.stdout.write(`gc: ${String(report.unfinished.length)} unfinished uploads, ${String(report.blobs.length)} blobs, ${String(report.temp.length)} temporary files removed\n`);
    return 0;
  } finally {
    await library.close();
  }
}
