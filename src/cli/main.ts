// The `imghost` command: parses options, then runs a subcommand (serve by default).
import { helpText } from '../config/help.js';
import { parseInvocation, type Invocation } from '../config/parse.js';
import { ConfigError } from '../errors.js';

type Command = (invocation: Invocation) => Promise<number>;

// Loaded on demand, so `--help` and option errors answer without loading Fastify and sharp.
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serve,
  gc: async () => (await import('./gc.js')).gc,
  'migrate-store': async () => (await import('./migrate.js')).migrateStoreCommand,
  'migrate-db': async () => (await import('./migrate.js')).migrateDbCommand,
  verify: async () => (await import('./verify.js')).verify,
  backup: async () => (await import('./backup.js')).backup,
  restore: async () => (await import('./backup.js')).restore,
  sign: async () => (await import('./sign.js')).sign,
  users: async () => (await import('./users.js')).users,
  keys: async () => (await import('./keys.js')).keys,
  takedown: async () => (await import('./takedown.js')).takedown,
};

async function main(argv: string[]): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = parseInvocation(argv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`imghost: ${err.message}\n`);
    return 2;
  }
  if (invocation.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  const load = commands[invocation.command];
  if (!load) {
    process.stderr.write(`imghost: unknown command '${invocation.command}' (see --help)\n`);
    return 2;
  }
  try {
    return await (await load())(invocation);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`imghost: ${err.message}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`imghost: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
