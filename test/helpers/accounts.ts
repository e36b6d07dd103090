// Users and keys made the way `imghost users add` and `keys add` make them, straight in a running
// server's database (the commands themselves are tested in test/cli/).
import { sha256 } from '../../src/hash.js';
import { newId, randomToken } from '../../src/ids.js';
import type { AccountRepo, Limits } from '../../src/repo/accounts.js';

export interface TestUser { id: string; name: string; key: string }

export async function addUser(accounts: AccountRepo, name: string, limits: Partial<Limits> = {}): Promise<TestUser> {
  const id = newId();
  await accounts.addUser({ id, name, quotaBytes: limits.quotaBytes ?? null, maxImages: limits.maxImages ?? null, createdAt: new Date() });
  return { id, name, key: await addKey(accounts, id) };
}

export async function addKey(accounts: AccountRepo, userId: string): Promise<string> {
  const key = `ihk_${randomToken(32)}`;
  await accounts.addKey({ id: newId(), userId, keyHash: sha256(key), label: null, createdAt: new Date() });
  return key;
}

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
