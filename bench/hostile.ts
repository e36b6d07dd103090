// Scenario: every hostile class at once (test/hostile/storm.ts) against the built server, at the
// sizes of the single-class tests (files near max_upload_size, 10,000 scans; quick mode: the
// storm test's sizes). Prints, per class, the answers and the time of the answered attempt, and
// the peak memory of the server and its thumbnail process against the server's idle memory.
import { defaults } from '../src/config/options.js';
import { photo } from '../test/helpers/images.js';
import { fullStorm, hostileUploads, modestStorm, storm } from '../test/hostile/storm.js';
import type { Bench } from './context.js';
import { median, round } from './stats.js';

const MB = 1024 * 1024;

export async function hostileScenario(bench: Bench): Promise<void> {
  const size = bench.pick(modestStorm, fullStorm);
  const uploads = await hostileUploads(size);
  const half = await photo(800, 600);
  // The bounds the benchmarks lift for their load generator are the subject here: back to the
  // defaults. Half-sent uploads hold their slots until request_timeout: 10 s keeps a round short.
  const { max_receiving, max_uploads_per_client, max_connections_per_ip } = defaults();
  const args = [`--max_receiving=${String(max_receiving)}`, `--max_uploads_per_client=${String(max_uploads_per_client)}`,
    `--max_connections_per_ip=${String(max_connections_per_ip)}`, '--request_timeout=10'];
  await bench.withImghost(args, async (server) => {
    const idle = await server.memory();
    const { rounds, ordinary, seen } = await storm(server.url, server.child.pid ?? 0, size.rounds, uploads, half);
    for (const { kind, data } of uploads) {
      const outcomes = rounds.flatMap((r) => r.outcomes).filter((o) => o.kind === kind);
      const answered = outcomes.map((o) => o.final.ms);
      bench.emit({
        scenario: 'hostile', class: kind, bytes: data.length,
        answers: outcomes.map((o) => o.answers.join(' ')),
        answered_ms_median: round(median(answered)), answered_ms_max: round(Math.max(...answered)),
      });
    }
    bench.emit({
      scenario: 'hostile', class: 'whole storm', rounds: size.rounds,
      half_sent: rounds.map((r) => r.halfSent.map((status) => status ?? 'closed').join(' ')),
      ordinary_uploads: ordinary.statuses.length, ordinary_refused: ordinary.statuses.filter((s) => s !== 201).length,
      slowest_health_ms: round(seen.slowestMs), health_not_200: seen.statuses.filter((s) => s !== 200).length,
      server_idle_rss_mb: round(idle.rss / MB), server_peak_rss_mb: round(seen.serverPeak / MB),
      thumbnail_process_peak_rss_mb: [...seen.childPeaks.values()].map((p) => round(p / MB)),
    });
  });
}
