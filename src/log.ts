// The logger: pino, with Tornado-style options. Files rotate by size through pino-roll, and
// every destination runs in pino's transport worker so logging never blocks a request.
// On a terminal, stderr gets readable lines (pino-pretty); elsewhere JSON lines.
import { pino, type Logger, type TransportTargetOptions } from 'pino';
import type { Config } from './config/options.js';

const levels = { debug: 'debug', info: 'info', warning: 'warn', error: 'error', none: 'silent' } as const;

export type LogOptions = Pick<Config,
  'logging' | 'log_to_stderr' | 'log_file_prefix' | 'log_file_max_size' | 'log_file_num_backups' | 'debug'>;

/**
 * How log lines on stderr look: readable for a person at a terminal (or in --debug mode), JSON
 * lines for files, pipes and log collectors, which parse them.
 */
export function stderrFormat(debug: boolean, isTTY: boolean): 'readable' | 'json' {
  return debug || isTTY ? 'readable' : 'json';
}

/** pino-pretty's settings for readable lines: local time, one line per entry. */
const READABLE = { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true };

export function createLogger(opts: LogOptions): Logger {
  const level = levels[opts.logging];
  if (level === 'silent') return pino({ level });
  const targets: TransportTargetOptions[] = [];
  if (opts.log_file_prefix !== '') {
    targets.push({
      target: 'pino-roll',
      level,
      options: {
        file: opts.log_file_prefix,
        size: `${String(Math.max(1, Math.round(opts.log_file_max_size / 1024)))}k`,
        limit: { count: opts.log_file_num_backups },
        mkdir: true,
      },
    });
  }
  if (opts.log_to_stderr ?? opts.log_file_prefix === '') {
    targets.push(stderrFormat(opts.debug, process.stderr.isTTY) === 'readable'
      ? { target: 'pino-pretty', level, options: { destination: 2, colorize: process.stderr.isTTY, ...READABLE } }
      : { target: 'pino/file', level, options: { destination: 2 } });
  }
  return pino({ level }, pino.transport({ targets }));
}
