// Delete tokens of the images this browser uploaded, kept in localStorage: the server only keeps
// their hashes, so this browser is what lets its owner delete an image later.
const key = (id: string): string => `imghost:delete:${id}`;

function storage(): Storage | null {
  try { return window.localStorage; } catch { return null; } // blocked by privacy settings
}

export const rememberDeleteToken = (id: string, token: string): void => { storage()?.setItem(key(id), token); };
export const deleteTokenOf = (id: string): string | null => storage()?.getItem(key(id)) ?? null;
export const forgetDeleteToken = (id: string): void => { storage()?.removeItem(key(id)); };

// The upload token of a server that requires one, so it is typed once per browser.
const UPLOAD_TOKEN = 'imghost:upload-token';
export const savedUploadToken = (): string => storage()?.getItem(UPLOAD_TOKEN) ?? '';
export const saveUploadToken = (token: string): void => { storage()?.setItem(UPLOAD_TOKEN, token); };
