// Whether a server is an open upload service: listening beyond loopback, taking uploads from
// anyone, and listing them on its front page. That is right on a trusted network or on purpose,
// so it is not refused, but a newcomer who starts the quick start on a server is told at once.
import { isIP } from 'node:net';
import type { Config } from './config/options.js';

/** 127.0.0.0/8, ::1, localhost and IPv4-mapped loopback: reachable from this machine only. */
export function isLoopback(address: string): boolean {
  const host = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  const v4 = host.replace(/^::ffff:/, '');
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** The start-up warning for an open upload service, or null when uploads or the list are closed. */
export function openServiceWarning(config: Pick<Config, 'address' | 'upload_token' | 'uploads' | 'public_listing'>): string | null {
  if (isLoopback(config.address) || config.upload_token !== '' || config.uploads === 'users' || !config.public_listing) return null;
  return `anyone who can reach this server on ${config.address} can upload images and see the list of uploads; `
    + 'to close it, set --upload_token (uploads need the token), --uploads=users (uploads need a user\'s API key), --public_listing=false (no list), '
    + 'or --address=127.0.0.1 behind a reverse proxy';
}
