// Turns the command line, IMGHOST_* environment variables and an optional JSON config file into
// one Config. Precedence: command line > environment > file > default.
import { readFileSync } from 'node:fs';
import { defaults, isOptionName, options, type Config, type OptionDef, type OptionName } from './options.js';
import { ConfigError } from '../errors.js';

export interface Invocation {
  command: string;
  /** Positional arguments after the command. */
  args: string[];
  help: boolean;
  config: Config;
}

const normalize = (name: string): string => name.replaceAll('-', '_').toLowerCase();

export function parseInvocation(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Invocation {
  const cli = new Map<OptionName, string | true>();
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('--')) { positional.push(arg); continue; }
    const eq = arg.indexOf('=');
    const name = normalize(eq === -1 ? arg.slice(2) : arg.slice(2, eq));
    if (name === 'help') { help = true; continue; }
    if (!isOptionName(name)) throw new ConfigError(`unrecognized option '${eq === -1 ? arg : arg.slice(0, eq)}' (see --help)`);
    if (eq !== -1) { cli.set(name, arg.slice(eq + 1)); continue; }
    const def: OptionDef = options[name];
    const next = argv[i + 1];
    if (def.type === 'bool' || def.type === 'autobool') cli.set(name, true);
    else if (next === undefined || next.startsWith('--')) throw new ConfigError(`option '--${name}' needs a value`);
    else { cli.set(name, next); i++; }
  }

  const config = defaults();
  const configPath = cli.get('config') ?? env.IMGHOST_CONFIG;
  if (typeof configPath === 'string' && configPath !== '') applyFile(config, configPath);
  for (const name of Object.keys(options) as OptionName[]) {
    const value = env[`IMGHOST_${name.toUpperCase()}`];
    if (value !== undefined) assign(config, name, value, `environment variable IMGHOST_${name.toUpperCase()}`);
  }
  for (const [name, value] of cli) assign(config, name, value, `option '--${name}'`);

  const [command = 'serve', ...args] = positional;
  for (const name of help ? [] : cli.keys()) {
    const only = options[name].commands;
    if (only && !only.includes(command)) throw new ConfigError(`option '--${name}' is for ${only.join(', ')} only, not ${command} (see --help)`);
  }
  return { command, args, help, config };
}

function applyFile(config: Config, path: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    const name = normalize(key);
    if (!isOptionName(name) || name === 'config') throw new ConfigError(`unrecognized option '${key}' in config file ${path}`);
    assign(config, name, value, `option '${key}' in config file ${path}`);
  }
}

function assign(config: Config, name: OptionName, raw: unknown, source: string): void {
  (config as Record<OptionName, unknown>)[name] = convert(options[name], raw, source);
}

const units: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 };
const truthy = new Set(['true', '1', 'yes', 'on']);
const falsy = new Set(['false', '0', 'no', 'off']);

function convert(def: OptionDef, raw: unknown, source: string): unknown {
  const text = typeof raw === 'string' ? raw.trim() : raw;
  const fail = (expected: string): never => { throw new ConfigError(`${source}: expected ${expected}, got '${String(raw)}'`); };
  switch (def.type) {
    case 'string':
      return typeof text === 'string' ? text : fail('a string');
    case 'bool':
    case 'autobool': {
      if (typeof text === 'boolean') return text;
      if (def.type === 'autobool' && text === 'auto') return null;
      const word = String(text).toLowerCase();
      return truthy.has(word) ? true : falsy.has(word) ? false : fail('true or false');
    }
    case 'int': {
      const n = typeof text === 'number' ? text : /^-?\d+$/.test(String(text)) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n)) return fail('an integer');
      return n < def.min ? fail(`an integer >= ${def.min}`) : n;
    }
    case 'size': {
      if (typeof text === 'number' && Number.isSafeInteger(text) && text > 0) return text;
      return parseSize(String(text)) ?? fail('a size in bytes such as 33554432 or 32MiB');
    }
    case 'enum':
      return typeof text === 'string' && def.choices.includes(text) ? text : fail(`one of ${def.choices.join(', ')}`);
  }
}

/** A positive byte count written as an integer or with a unit (`32MiB`, `500k`); null for anything else. */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const factor = m ? units[(m[2] ?? '').toLowerCase()] : undefined;
  const n = m && factor ? Math.floor(Number(m[1]) * factor) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
