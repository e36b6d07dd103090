// Every option imghost understands, defined once: name, type, default, help line and group.
// The parser (parse.ts) and `--help` (help.ts) both read this table, so an option added here
// is at once settable from the command line, the environment and the config file.
import { availableParallelism } from 'node:os';

interface Base<T> {
  readonly default: T;
  readonly help: string;
  readonly group: Group;
  /** Shown in --help instead of the default when the default is derived from other options. */
  readonly defaultText?: string;
  readonly metavar?: string;
}
export interface StringOption extends Base<string> { readonly type: 'string' }
export interface IntOption extends Base<number> { readonly type: 'int'; readonly min: number }
/** A byte count; accepts plain integers or units (`32MiB`, `500k`). */
export interface SizeOption extends Base<number> { readonly type: 'size' }
export interface BoolOption extends Base<boolean> { readonly type: 'bool' }
/** A boolean whose default (`auto`, kept as null) is decided from other options. */
export interface AutoBoolOption extends Base<boolean | null> { readonly type: 'autobool' }
export interface EnumOption<T extends string> extends Base<T> {
  readonly type: 'enum';
  readonly choices: readonly T[];
}
export type OptionDef =
  | StringOption | IntOption | SizeOption | BoolOption | AutoBoolOption | EnumOption<string>;

export type Group = 'server' | 'storage' | 'images' | 'security' | 'operations' | 'logging';
export const groups: readonly Group[] = ['server', 'storage', 'images', 'security', 'operations', 'logging'];

const str = (def: string, help: string, group: Group, extra: Partial<StringOption> = {}): StringOption =>
  ({ type: 'string', default: def, help, group, ...extra });
const int = (def: number, help: string, group: Group, min = 0, extra: Partial<IntOption> = {}): IntOption =>
  ({ type: 'int', default: def, help, group, min, ...extra });
const size = (def: number, help: string, group: Group): SizeOption => ({ type: 'size', default: def, help, group });
const bool = (def: boolean, help: string, group: Group): BoolOption => ({ type: 'bool', default: def, help, group });
const autobool = (help: string, group: Group): AutoBoolOption =>
  ({ type: 'autobool', default: null, help, group, defaultText: 'auto' });
const oneOf = <T extends string>(def: T, choices: readonly T[], help: string, group: Group): EnumOption<T> =>
  ({ type: 'enum', default: def, choices, help, group });

export const thumbFormats = ['png', 'webp', 'jpeg', 'avif'] as const;
export const logLevels = ['debug', 'info', 'warning', 'error', 'none'] as const;

export const options = {
  config: str('', 'read options from this JSON file (command line and IMGHOST_* variables override it)', 'server', { metavar: 'PATH' }),
  port: int(8000, 'run on the given port (0 picks a free one)', 'server', 0),
  address: str('0.0.0.0', 'listen on this address', 'server'),
  debug: bool(false, 'debug mode: pretty logs, detailed error pages, templates re-read on every request', 'server'),
  shutdown_timeout: int(10, 'seconds to let in-flight requests finish on SIGTERM/SIGINT', 'server'),

  data_dir: str('./data', 'root of the embedded storage (database, blobs, temporary files)', 'storage', { metavar: 'DIR' }),
  db: str('', 'metadata store, sqlite:PATH', 'storage', { defaultText: 'sqlite:<data_dir>/imghost.db', metavar: 'URL' }),
  store: str('', 'blob store, a directory path', 'storage', { defaultText: '<data_dir>/blobs', metavar: 'PATH' }),

  max_upload_size: size(32 * 1024 * 1024, 'largest accepted upload in bytes (units allowed: 32MiB, 500k)', 'images'),
  max_pixels: int(100_000_000, 'largest accepted image in pixels (width x height x frames); refused from the header, before decoding', 'images', 1),
  thumb_size: int(128, 'thumbnails fit in a box of this many pixels per side', 'images', 1),
  thumb_format: oneOf('png', thumbFormats, 'thumbnail format', 'images'),
  thumb_concurrency: int(availableParallelism(), 'thumbnails made at once', 'images', 1, { defaultText: 'number of CPUs' }),
  queue_limit: int(100, 'uploads allowed to wait for a thumbnail slot before the server answers 503', 'images'),
  recent_count: int(20, 'images shown in the recent list of the front page', 'images', 1),

  xsrf_cookies: bool(true, 'require the _xsrf token on form posts', 'security'),
  cookie_secret: str('', 'secret that signs cookies; nodes behind one load balancer must share it', 'security', { defaultText: 'generated once into <data_dir>/secret' }),

  gc_grace: int(600, 'seconds an unreferenced blob or unfinished upload is left alone before gc removes it', 'operations'),

  logging: oneOf('info', logLevels, 'log level', 'logging'),
  log_to_stderr: autobool('send log output to stderr (by default only when --log_file_prefix is not set)', 'logging'),
  log_file_prefix: str('', 'path prefix for log files; files rotate by size', 'logging', { metavar: 'PATH' }),
  log_file_max_size: size(100_000_000, 'max size of log files before rollover', 'logging'),
  log_file_num_backups: int(10, 'number of rotated log files kept besides the current one', 'logging', 1),
} as const satisfies Record<string, OptionDef>;

export type OptionName = keyof typeof options;
type ValueOf<D> = D extends Base<infer T> ? T : never;
export type Config = { -readonly [K in OptionName]: ValueOf<(typeof options)[K]> };

export function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(options, name);
}

export function defaults(): Config {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(options)) out[name] = def.default;
  return out as Config;
}
