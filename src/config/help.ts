// `imghost --help`: every option with its default, grouped the way the option table groups them.
import { groups, options, type OptionDef } from './options.js';

const commands: readonly (readonly [string, string])[] = [
  ['serve', 'run the web server (the default)'],
  ['gc', 'remove unfinished uploads and blobs no image refers to'],
  ['migrate-store', 'copy every blob from --from to --to (e.g. a directory to s3://bucket), resumable'],
  ['migrate-db', 'copy every image record from --from to --to (e.g. sqlite:PATH to postgres://...), resumable'],
  ['verify', 'check that every image\'s original, thumbnail and variants are stored whole, and that records name users, hold no taken-down bytes and keep their view and expiry limits; exit code 1 on damage'],
  ['backup', 'snapshot the embedded library (database and blobs) into --to, safe while the server runs'],
  ['restore', 'restore a backup from --from into --data_dir (refuses a non-empty one without --force)'],
  ['sign ID BOX[.EXT]', 'print the URL, signed with --signing_key, of image ID at any BOX (WxH, WxH-cover[-GRAVITY])'],
  ['users add|set NAME', 'add a user who uploads with their own API keys, or change their --quota and --max_images'],
  ['users list | remove NAME', 'list users with their quota, usage and keys; remove one (--delete_images deletes their images too)'],
  ['keys add|list NAME', 'make an API key for a user (printed once; --label); list the keys of one user or all (never the keys)'],
  ['keys revoke KEY_ID', 'revoke a key: it stops working at once'],
  ['takedown ID|SHA256', 'remove every image with those bytes and refuse them from then on (--reason); answers 410 on their links'],
  ['takedown --list | --log', 'list the takedowns in force, or print the audit log of every takedown and undo'],
  ['takedown --undo ID|SHA256', 'lift a takedown made by mistake: the bytes may be uploaded again (deleted files stay deleted)'],
];

function shownDefault(def: OptionDef): string {
  if (def.defaultText !== undefined) return def.defaultText;
  if (def.type === 'enum') return `${def.default} (one of ${def.choices.join(', ')})`;
  return def.default === '' ? 'none' : String(def.default);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

export function helpText(): string {
  const out = ['Usage: imghost [COMMAND] [OPTIONS]', '', 'Commands:'];
  for (const [name, text] of commands) out.push(`  ${name.padEnd(31)} ${text}`);
  out.push('', 'Options are also read from IMGHOST_<NAME> environment variables and from --config=PATH;',
    'dashes and underscores in names are the same (--max-upload-size = --max_upload_size).',
    'An option whose help starts with commands (verify:, users add:, takedown:) is refused on the command line of any other.');
  for (const group of groups) {
    out.push('', `${group} options:`);
    for (const [name, def] of Object.entries(options) as [string, OptionDef][]) {
      if (def.group !== group) continue;
      const flag = `--${name}${def.metavar ? `=${def.metavar}` : ''}`;
      const [first = '', ...rest] = wrap(`${def.help} (default ${shownDefault(def)})`, 46);
      out.push(`  ${flag.padEnd(31)} ${first}`, ...rest.map((l) => `${' '.repeat(34)}${l}`));
    }
  }
  out.push('', `  ${'--help'.padEnd(31)} show this help information`);
  return out.join('\n');
}
