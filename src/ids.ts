// Random ids, tokens and temporary names, all from the system's cryptographic generator.
import { randomBytes } from 'node:crypto';

/** `bytes` random bytes as URL-safe text: what an id, a token or a secret is made of. */
export const randomToken = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** 96 random bits: ids cannot be guessed, so unlisted images cannot be enumerated. */
export const newId = (): string => randomToken(12);

/** Ids are 12 random bytes in base64url: anything else cannot name an image. */
export const isId = (text: string): boolean => /^[A-Za-z0-9_-]{16}$/.test(text);

/** Keeps the temporary files of concurrent writers apart; not a secret. */
export const uniqueSuffix = (bytes: number): string => randomBytes(bytes).toString('hex');
