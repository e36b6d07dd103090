// Every option imghost understands, defined once: name, type, default, help line and group.
// The parser (parse.ts) and `--help` (help.ts) both read this table, so an option added here
// is at once settable from the command line, the environment and the config file.
import { availableParallelism } from 'node:os';
import { thumbFormats, type ThumbFormat } from '../images/formats.js';

interface Base<T> {
  readonly default: T;
  readonly help: string;
  readonly group: Group;
  /** Shown in --help instead of the default when the default is derived from other options. */
  readonly defaultText?: string;
  readonly metavar?: string;
  /** The commands it is for; given on the command line to any other, it is refused. */
  readonly commands?: readonly string[];
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
export type OptionDef
  = | StringOption | IntOption | SizeOption | BoolOption | AutoBoolOption | EnumOption<string>;

export type Group = 'server' | 'storage' | 'images' | 'security' | 'operations' | 'logging';
export const groups: readonly Group[] = ['server', 'storage', 'images', 'security', 'operations', 'logging'];

const str = (def: string, help: string, group: Group, extra: Partial<StringOption> = {}): StringOption =>
  ({ type: 'string', default: def, help, group, ...extra });
const int = (def: number, help: string, group: Group, min = 0, extra: Partial<IntOption> = {}): IntOption =>
  ({ type: 'int', default: def, help, group, min, ...extra });
const size = (def: number, help: string, group: Group): SizeOption => ({ type: 'size', default: def, help, group });
const bool = (def: boolean, help: string, group: Group, extra: Partial<BoolOption> = {}): BoolOption =>
  ({ type: 'bool', default: def, help, group, ...extra });
const autobool = (help: string, group: Group): AutoBoolOption =>
  ({ type: 'autobool', default: null, help, group, defaultText: 'auto' });
const oneOf = <T extends string>(def: T, choices: readonly T[], help: string, group: Group): EnumOption<T> =>
  ({ type: 'enum', default: def, choices, help, group });

export const logLevels = ['debug', 'info', 'warning', 'error', 'none'] as const;

export const options = {
  config: str('', 'read options from this JSON file (command line and IMGHOST_* variables override it)', 'server', { metavar: 'PATH' }),
  port: int(8000, 'run on the given port (0 picks a free one)', 'server', 0),
  address: str('0.0.0.0', 'listen on this address', 'server'),
  debug: bool(false, 'debug mode: pretty logs, detailed error pages, templates re-read on every request', 'server'),
  workers: int(1, 'processes serving the same port (Node cluster); a crashed one is restarted', 'server', 1),
  metrics_port: int(0, 'serve Prometheus metrics at /metrics on this port, apart from the public one (0: no metrics, and nothing measured); with --workers, the supervisor answers for all workers', 'server', 0, { commands: ['serve'] }),
  metrics_address: str('127.0.0.1', 'listen for metrics scrapes on this address (loopback: only this machine may scrape)', 'server', { commands: ['serve'] }),
  shutdown_timeout: int(10, 'seconds to let in-flight requests finish on SIGTERM/SIGINT', 'server'),
  request_timeout: int(300, 'seconds a client has to send a whole request, headers and body; a slower one (slow-loris) gets 408 and is disconnected', 'server', 1),
  headers_timeout: int(20, 'seconds a client has to send a request\'s headers (at most request_timeout); a slower one gets 408 and is disconnected', 'server', 1),
  keepalive_timeout: int(72, 'seconds an idle keep-alive connection stays open between requests (keep it above a reverse proxy\'s upstream idle timeout)', 'server', 1),
  max_connections: int(0, 'connections open at once; past it a new connection is closed at once', 'server', 0, { defaultText: '3/4 of the open-file limit, at most 10000' }),
  max_connections_per_ip: int(100, 'connections open at once from one client address (IPv6: per /64), not counting --trusted_proxies; past it a new one is closed at once (0: no cap)', 'server'),
  public_url: str('', 'the address users reach the site at (e.g. https://img.example.com): every absolute link (API answers, share links, link previews) is built on it instead of the request\'s Host', 'server', { metavar: 'URL' }),

  data_dir: str('./data', 'root of the embedded storage (database, blobs, temporary files)', 'storage', { metavar: 'DIR' }),
  db: str('', 'metadata store: sqlite:PATH or postgres://user:pass@host:5432/dbname', 'storage', { defaultText: 'sqlite:<data_dir>/imghost.db', metavar: 'URL' }),
  db_pool_size: int(10, 'PostgreSQL connections per process', 'storage', 1),
  db_timeout: int(5, 'seconds before a database call is given up (the request then gets 503)', 'storage', 1),
  store: str('', 'blob store: a directory path or s3://bucket/prefix', 'storage', { defaultText: '<data_dir>/blobs', metavar: 'PATH|URL' }),
  store_timeout: int(30, 'seconds before an object store call is given up (the request then gets 503)', 'storage', 1),
  s3_endpoint: str('', 'S3-compatible endpoint URL (Ceph RGW, MinIO, Garage, R2...); empty for AWS', 'storage', { metavar: 'URL' }),
  s3_region: str('us-east-1', 'S3 region', 'storage'),
  s3_force_path_style: bool(false, 'address buckets as ENDPOINT/bucket instead of bucket.ENDPOINT', 'storage'),
  s3_access_key_id: str('', 'S3 access key', 'storage', { defaultText: 'AWS_ACCESS_KEY_ID or the AWS credential chain' }),
  s3_secret_access_key: str('', 'S3 secret key', 'storage', { defaultText: 'AWS_SECRET_ACCESS_KEY or the AWS credential chain' }),
  s3_public_url: str('', 'redirect image GETs (302) to this public base URL of the bucket instead of proxying the bytes', 'storage', { metavar: 'URL' }),
  accel_redirect: str('', 'behind nginx, with the file store: answer GETs of originals and thumbnails larger than 256 KiB with X-Accel-Redirect: PREFIX<blob path> and no body, for nginx to send the file, smaller ones being sent by imghost for nginx to cache (see deploy/nginx/imghost.conf); empty: off', 'storage', { metavar: 'PREFIX' }),

  max_upload_size: size(32 * 1024 * 1024, 'largest accepted upload in bytes (units allowed: 32MiB, 500k)', 'images'),
  max_pixels: int(100_000_000, 'largest accepted image in pixels (width x height x frames); refused from the header, before decoding', 'images', 1),
  decode_budget: size(320 * 1024 * 1024, 'most memory one image may need to decode, estimated from its header (format, bit depth, channels, progressive/interlaced mode, frames); a larger one is refused with 413 before decoding (units allowed: 320MiB, 1GiB)', 'images'),
  max_frames: int(10_000, 'GIFs, WebPs and TIFFs of more frames or pages (or GIFs and WebPs of more other blocks or chunks than one per frame and 64 more) are refused with 422 before their header is read (reading it costs memory or time per part)', 'images', 1),
  max_jpeg_scans: int(256, 'progressive JPEGs of more scans are refused with 422 before decoding (encoders write about ten; each scan costs a pass over the whole image)', 'images', 1),
  thumb_timeout: int(30, 'seconds a thumbnail may take to decode and encode; a slower image is refused with 422 and its work is stopped', 'images', 1),
  thumb_size: int(128, 'thumbnails fit in a box of this many pixels per side', 'images', 1),
  thumb_format: oneOf<ThumbFormat>('webp', thumbFormats, 'thumbnail encoding (at 128 px, webp is about 5 times smaller than png for photos, screenshots and drawings)', 'images'),
  thumb_concurrency: int(availableParallelism(), 'thumbnails made at once', 'images', 1, { defaultText: 'number of CPUs' }),
  thumb_nice: int(10, 'thumbnails are made in a child process this much lower in CPU priority (nice, up to 19), so serving goes first on a busy machine; 0 makes them in the server process', 'images'),
  variants: str('small:320,medium:800,large:1600', 'named sizes served at /imgs/<id>/<name>[.webp|.avif|.jpg|.png|.gif]: NAME:SIZE pairs, the longest side in pixels (never enlarged), made on first request', 'images', { metavar: 'LIST' }),
  eager_variants: str('', 'names of --variants made right after an upload is stored, in the background, rather than on first request (e.g. medium): in AVIF (WebP without --avif, or for an animation), one at a time and only while no other image work waits; checked at start-up', 'images', { metavar: 'LIST' }),
  avif: bool(true, 'offer AVIF variants to clients that accept it (else WebP); AVIF is about a fifth smaller and several times slower to encode', 'images'),
  queue_limit: int(100, 'uploads allowed to wait for a thumbnail slot before the server answers 503', 'images'),
  max_receiving: int(4 * availableParallelism(), 'uploads received, checked and stripped at once; past it a new upload gets 503 before its body is read', 'images', 1, { defaultText: '4 x number of CPUs' }),
  max_uploads_per_client: int(4, 'uploads one client address (IPv6: per /64) may have in flight at once, from first byte to answer; past it a new one gets 429 before its body is read (0: no bound)', 'images'),
  recent_count: int(20, 'images shown in the recent list of the front page', 'images', 1),

  xsrf_cookies: bool(true, 'require the _xsrf token on form posts', 'security'),
  cookie_secret: str('', 'secret that signs cookies; nodes behind one load balancer must share it', 'security', { defaultText: 'generated once into <data_dir>/secret' }),
  uploads: oneOf('anonymous', ['anonymous', 'users'] as const, 'who may upload: anyone (anonymous), or only users created with `imghost users add`, each sending one of their API keys (users)', 'security'),
  upload_token: str('', 'when set, uploads need it, as the header "Authorization: Bearer TOKEN" or the form field upload_token', 'security', { metavar: 'TOKEN' }),
  signing_key: str('', 'when set, /imgs/<id>/s/<signature>/<box> URLs signed with it (HMAC-SHA256, see `imghost sign`) serve any size and crop; without it, only the named --variants exist', 'security', { metavar: 'SECRET' }),
  upload_rate_limit: int(0, 'uploads one client IP may make per upload_rate_window before the server answers 429 (0: no limit); one count for all nodes on PostgreSQL, per process on SQLite', 'security'),
  upload_rate_window: int(60, 'seconds of the upload_rate_limit window', 'security', 1),
  trusted_proxies: str('', 'comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client (empty: trust none)', 'security', { metavar: 'LIST' }),
  public_listing: bool(true, 'list recent images on / and answer GET /api/images; when false, only those who have an id see its image, and uploads are unlisted unless they say unlisted=0', 'security'),
  strip_metadata: bool(true, 'remove GPS and other identifying EXIF/XMP/IPTC metadata from stored JPEG, PNG, WebP and GIF originals, without re-encoding', 'security'),

  from: str('', 'migrate-store / migrate-db: the store or database to copy from (same syntax as --store / --db); restore: the backup directory', 'operations', { metavar: 'LOCATION' }),
  to: str('', 'migrate-store / migrate-db: the store or database to copy into; backup: the backup directory', 'operations', { metavar: 'LOCATION' }),
  migrate_concurrency: int(8, 'blobs migrate-store copies at once', 'operations', 1),
  gc_grace: int(600, 'seconds an unreferenced blob or temporary file is left alone before gc removes it (an unfinished upload goes once the lease its process renews has lapsed)', 'operations'),
  expiry_sweep: int(60, 'seconds between the server\'s sweeps that remove images past their expiry (or a minute past their last allowed view) and their files; their links answer 410 from the moment they expire', 'operations', 1),
  verify_concurrency: int(8, 'images verify checks at once', 'operations', 1),
  repair: bool(false, 'verify: forget the variants found missing or damaged (records, and blobs nothing else uses), so each is made again on its next request; make images whose owner is no user anonymous; take down again images of taken-down bytes; originals and thumbnails are otherwise never touched', 'operations', { commands: ['verify'] }),
  force: bool(false, 'backup / restore: write into a directory that already holds a library, replacing its database', 'operations'),
  quota: str('', 'users add / users set: bytes of originals the user may store (units allowed: 500MiB, 2GiB; 0 or none: no limit)', 'operations', { metavar: 'BYTES', commands: ['users'] }),
  max_images: str('', 'users add / users set: images the user may store (0 or none: no limit)', 'operations', { metavar: 'N', commands: ['users'] }),
  delete_images: bool(false, 'users remove: delete the user\'s images and their files too (without it they stay, anonymous)', 'operations', { commands: ['users'] }),
  label: str('', 'keys add: a note on what the key is for, shown by keys list', 'operations', { metavar: 'TEXT', commands: ['keys'] }),
  reason: str('', 'takedown: why the bytes are taken down (or the undo made), kept in the audit log', 'operations', { metavar: 'TEXT', commands: ['takedown'] }),
  list: bool(false, 'takedown: list the takedowns in force (bytes, time, reason, images removed) instead of taking one down', 'operations', { commands: ['takedown'] }),
  log: bool(false, 'takedown: print the audit log of every takedown and undo instead of taking one down', 'operations', { commands: ['takedown'] }),
  undo: bool(false, 'takedown: lift the takedown of the bytes given (SHA-256, or an id it removed): they may be uploaded again and the removed ids answer 404; deleted files stay deleted', 'operations', { commands: ['takedown'] }),

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
