// `imghost sign <id> <box>[.<ext>]`: prints the signed URL of a rendition of any box, on
// --public_url when set (else the path), for a server started with the same --signing_key.
import type { Invocation } from '../config/parse.js';
import { BadVariantBox, ConfigError } from '../errors.js';
import { publicBase } from '../http/origin.js';
import { isId } from '../ids.js';
import { signedPath } from '../variants/signing.js';

const USAGE = 'usage: imghost sign <id> <box>[.<ext>] --signing_key=SECRET (box: WxH, WxH-cover or WxH-cover-GRAVITY)';

export function sign({ args, config }: Invocation): Promise<number> {
  const [id, box, ...extra] = args;
  if (id === undefined || box === undefined || extra.length > 0) throw new ConfigError(USAGE);
  if (config.signing_key === '') throw new ConfigError('sign: no --signing_key is set; give the key the server runs with');
  if (!isId(id)) throw new ConfigError(`sign: '${id}' is not an image id (16 characters of A-Z, a-z, 0-9, _ and -)`);
  let path: string;
  try {
    path = signedPath(config.signing_key, id, box);
  } catch (err) {
    if (err instanceof BadVariantBox) throw new ConfigError(`sign: ${err.message}`);
    throw err;
  }
  process.stdout.write(`${publicBase(config.public_url) ?? ''}${path}\n`);
  return Promise.resolve(0);
}
