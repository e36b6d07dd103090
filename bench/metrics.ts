// Scenario: what the Prometheus metrics cost. Three servers on one library: one with
// --metrics_port, one without, and a second one without (the control: what two identical servers
// differ by on this machine in this run). Each round loads them in turn, in each of the six
// orders in turn, so that none gains from its place in a round: uploads of small photos, then
// thumbnail GETs with wrk. A figure is the median over rounds of the ratio
// of a round's pair, taken seconds apart, so that the machine's drift between rounds cancels out;
// the server's CPU per upload or GET is given too, since on a shared machine it moves less than a
// rate.
import { uploadMany } from './client.js';
import { smallPhoto, type Bench } from './context.js';
import { treeCpuMs } from './cpu.js';
import { startImghost, type Imghost } from './imghost-process.js';
import { populate } from './populate.js';
import { median, pairedRatio, round } from './stats.js';
import { measuredWrk, wrk, wrkInstalled } from './wrk.js';
import { freePort } from '../test/helpers/process.js';

const UPLOAD_CONCURRENCY = 4;
const CONNECTIONS = 32;

const SETTINGS = ['off', 'on', 'control'] as const;
type Setting = typeof SETTINGS[number];
/** Every order of the three, in turn: each server comes before and after each other as often. */
const ORDERS: readonly (readonly Setting[])[] = [
  ['off', 'on', 'control'], ['on', 'control', 'off'], ['control', 'off', 'on'],
  ['control', 'on', 'off'], ['on', 'off', 'control'], ['off', 'control', 'on'],
];

/** Per round: what was done per second, and the server's CPU microseconds per upload or GET. */
interface Runs { perSecond: number[]; cpuUs: number[] }

const runs = (): Record<Setting, Runs> => ({ off: { perSecond: [], cpuUs: [] }, on: { perSecond: [], cpuUs: [] }, control: { perSecond: [], cpuUs: [] } });

/** Medians of each setting, and the paired ratios on/off and control/off, as `<prefix>_...` fields. */
function compared(prefix: string, measured: Record<Setting, Runs>): Record<string, number | null> {
  const at = (setting: Setting, key: keyof Runs) => (measured[setting][key].length > 0 ? round(median(measured[setting][key])) : null);
  const against = (setting: Setting, key: keyof Runs) => pairedRatio(measured[setting][key], measured.off[key]);
  return {
    [`${prefix}_per_s_off`]: at('off', 'perSecond'), [`${prefix}_per_s_on`]: at('on', 'perSecond'),
    [`x_${prefix}`]: against('on', 'perSecond'), [`x_${prefix}_control`]: against('control', 'perSecond'),
    [`${prefix}_cpu_us_off`]: at('off', 'cpuUs'), [`${prefix}_cpu_us_on`]: at('on', 'cpuUs'),
    [`x_${prefix}_cpu`]: against('on', 'cpuUs'), [`x_${prefix}_cpu_control`]: against('control', 'cpuUs'),
  };
}

export async function metricsScenario(bench: Bench): Promise<void> {
  const dataDir = await bench.dir('data');
  const set = await bench.images(smallPhoto);
  const metricsPort = await freePort();
  const servers: Record<Setting, Imghost> = {
    off: await startImghost(dataDir),
    on: await startImghost(dataDir, [`--metrics_port=${String(metricsPort)}`]),
    control: await startImghost(dataDir),
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
    const rounds = bench.pick(6, 12);
    for (let turn = 0; turn < rounds; turn++) {
      for (const setting of ORDERS[turn % ORDERS.length] ?? SETTINGS) {
        const { url, child } = servers[setting];
        const pid = child.pid ?? 0;
        const count = bench.pick(16, 32);
        const before = await treeCpuMs(pid);
        uploads[setting].perSecond.push((await uploadMany(url, () => set.next(), set.cls.mime, count, UPLOAD_CONCURRENCY)).perSecond);
        const after = await treeCpuMs(pid);
        uploads[setting].cpuUs.push(((after.own + after.children - before.own - before.children) * 1000) / count);
        if (!wrkInstalled()) continue;
        const measured = await measuredWrk(url, [pid], paths, { connections: CONNECTIONS, seconds: 2 });
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
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }
}
