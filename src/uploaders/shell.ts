// An upload script for Linux and other Unix systems: POSIX sh and curl, nothing else. It reads
// a file named on its command line, or standard input (`flameshot gui --raw | sh imghost.sh`).
// The upload itself is web/uploaders/upload.sh; this writes the lines that name the server and token.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { uploadUrl, type UploaderSettings } from './settings.js';

const upload = readFileSync(fileURLToPath(new URL('../../web/uploaders/upload.sh', import.meta.url)), 'utf8');

/** `value` as one word of sh, taken literally. */
const shQuote = (value: string): string => `'${value.replaceAll('\'', '\'\\\'\'')}'`;

export function shellUploader(settings: UploaderSettings): string {
  return `#!/bin/sh
# Uploads an image to imghost at ${settings.base} and prints its link, which goes to the
# clipboard too when wl-copy or xclip is installed; the link that deletes it goes to stderr.
#   sh imghost.sh picture.png
#   flameshot gui --raw | sh imghost.sh
# The upload token is IMGHOST_TOKEN's when that is set, else the one below.
upload_url=${shQuote(uploadUrl(settings))}
token=\${IMGHOST_TOKEN:-${shQuote(settings.token ?? '')}}

${upload}`;
}
