// Scenario: what the Prometheus metrics cost. Two servers on one library, one with --metrics_port
// and one without, loaded in turn (uploads of small photos, then thumbnail GETs with wrk), the
// order swapped each round so that drift in the machine's load falls on both; medians of the rounds.
// The server's CPU per request is given too: on a shared machine it moves far less than a rate.
import { uploadMany } from './client.js';
import { smallPhoto, type Bench } from './context.js';
import { treeCpuMs } from './cpu.js';
import { startImghost, type Imghost } from './imghost-process.js';
import { populate } from './populate.js';
import { median, ratio, round } from './stats.js';
import { measuredWrk, wrk, wrkInstalled } from './wrk.js';
import { freePort } from '../test/helpers/process.js';

const UPLOAD_CONCURRENCY = 4;
const CONNECTIONS = 32;

type Setting = 'off' | 'on';

/** Per round: what was done per second, and the server's CPU microseconds per upload or GET. */
interface Runs { perSecond: number[]; cpuUs: number[] }

const runs = (): Record<Setting, Runs> => ({ off: { perSecond: [], cpuUs: [] }, on: { perSecond: [], cpuUs: [] } });

/** The medians of both settings and the ratios on/off, as `<prefix>_...` fields. */
function compared(prefix: string, measured: Record<Setting, Runs>): Record<string, number | null> {
  const at = (setting: Setting, key: keyof Runs) => (measured[setting][key].length > 0 ? median(measured[setting][key]) : null);
  const [off, on, cpuOff, cpuOn] = [at('off', 'perSecond'), at('on', 'perSecond'), at('off', 'cpuUs'), at('on', 'cpuUs')];
  return {
    [`${prefix}_per_s_off`]: off === null ? null : round(off), [`${prefix}_per_s_on`]: on === null ? null : round(on), [`x_${prefix}`]: ratio(on, off),
    [`${prefix}_cpu_us_off`]: cpuOff === null ? null : round(cpuOff), [`${prefix}_cpu_us_on`]: cpuOn === null ? null : round(cpuOn),
    [`x_${prefix}_cpu`]: ratio(cpuOn, cpuOff),
  };
}

export async function metricsScenario(bench: Bench): Promise<void> {
  const dataDir = await bench.dir('data');
  const set = await bench.images(smallPhoto);
  const metricsPort = await freePort();
  const servers: Record<Setting, Imghost> = {
    off: await startImghost(dataDir),
    on: await startImghost(dataDir, [`--metrics_port=${String(metricsPort)}`]),
  };
  try {
    const thumbs = await populate(servers.off.url, set, bench.pick(50, 200), 'thumb');
    const paths = thumbs.map(({ id }) => `/imgs/${id}/thumb`);
    const [uploads, gets] = [runs(), runs()];
    // Warmed first: the JIT, the codecs, the small-blob cache.
    for (const server of Object.values(servers)) {
      await uploadMany(server.url, () => set.next(), set.cls.mime, 4, 2);
      if (wrkInstalled()) await wrk(server.url, paths, { connections: CONNECTIONS, seconds: 1 });
    }
    const rounds = bench.pick(2, 6);
    for (let turn = 0; turn < rounds; turn++) {
      for (const setting of turn % 2 === 0 ? ['off', 'on'] as const : ['on', 'off'] as const) {
        const { url, child } = servers[setting];
        const pid = child.pid ?? 0;
        const count = bench.pick(16, 48);
        const before = await treeCpuMs(pid);
        uploads[setting].perSecond.push((await uploadMany(url, () => set.next(), set.cls.mime, count, UPLOAD_CONCURRENCY)).perSecond);
        const after = await treeCpuMs(pid);
        uploads[setting].cpuUs.push(((after.own + after.children - before.own - before.children) * 1000) / count);
        if (!wrkInstalled()) continue;
        const measured = await measuredWrk(url, pid, paths, { connections: CONNECTIONS, seconds: bench.pick(2, 5) });
        gets[setting].perSecond.push(measured.load.requestsPerSecond);
        gets[setting].cpuUs.push(measured.cpuUsPerRequest);
      }
    }
    // The server with metrics measured what it served: a figure of a server measuring nothing would mean nothing.
    const scraped = await (await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`)).text();
    if (!/^imghost_uploads_total\{status="201",reason="stored"\} [1-9]/m.test(scraped)) throw new Error('the metrics counted no uploads');
    bench.emit({
      scenario: 'metrics',
      rounds,
      upload_concurrency: UPLOAD_CONCURRENCY,
      ...compared('uploads', uploads),
      ...(wrkInstalled() ? { connections: CONNECTIONS, ...compared('thumb_gets', gets) } : { wrk: 'unavailable' }),
    });
  } finally {
    await Promise.all([servers.off.stop(), servers.on.stop()]);
  }
}
