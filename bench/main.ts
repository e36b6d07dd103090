// `npm run bench [-- --quick] [-- --only=upload,serve,...]`: starts imghost (the built
// JavaScript) on loopback, drives it from this process and prints one JSON line per scenario
// measurement, medians of several runs with their ratios to references measured in the same
// run. It fails only when something is broken (an error answer, a crash), never on a number.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { root } from '../test/helpers/cli.js';
import { Bench } from './context.js';
import { frontedScenario } from './fronted.js';
import { hostileScenario } from './hostile.js';
import { isolationScenario } from './isolation.js';
import { memoryScenario } from './memory.js';
import { metricsScenario } from './metrics.js';
import { scaleScenario } from './scale.js';
import { serveScenario } from './serve.js';
import { startupScenario } from './startup.js';
import { uploadScenario } from './upload.js';
import { variantsScenario } from './variants.js';

const scenarios: Record<string, (bench: Bench) => Promise<void>> = {
  upload: uploadScenario,
  serve: serveScenario,
  fronted: frontedScenario,
  isolation: isolationScenario,
  memory: memoryScenario,
  startup: startupScenario,
  hostile: hostileScenario,
  variants: variantsScenario,
  scale: scaleScenario,
  metrics: metricsScenario,
};

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
  const chosen = values.only?.split(',') ?? Object.keys(scenarios);
  const unknown = chosen.filter((name) => !(name in scenarios));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${Object.keys(scenarios).join(', ')}`);
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');

  const workDir = await mkdtemp(join(tmpdir(), 'imghost-bench-'));
  const bench = new Bench(values.quick, workDir, (line) => { process.stdout.write(`${line}\n`); });
  bench.emit({
    scenario: 'machine',
    mode: values.quick ? 'quick' : 'full',
    cores: bench.cores,
    load_average: loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
  });
  let failed = 0;
  try {
    for (const name of chosen) {
      const began = performance.now();
      try {
        await scenarios[name]?.(bench);
      } catch (err) {
        failed++;
        bench.emit({ scenario: name, error: err instanceof Error ? err.message : String(err) });
      }
      process.stderr.write(`bench: ${name} took ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
