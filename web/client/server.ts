// Talking to imghost from the page: uploads with real progress, deletes, and the server's errors
// turned into messages a person can act on. Every request carries the page's CSRF token.
import type { UploadedJson } from '../../src/http/present.js';

/** A refused request, with the server's own message and, when it is busy, when to retry. */
export class ServerError extends Error {
  constructor(message: string, readonly status: number, readonly retryAfter: number | null = null) {
    super(message);
  }
}

const xsrfToken = (): string => document.querySelector<HTMLMetaElement>('meta[name="xsrf-token"]')?.content ?? '';

function errorOf(status: number, body: string, retryAfter: string | null): ServerError {
  let message = `the server answered ${String(status)}`;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch { /* not JSON: keep the status line */ }
  const seconds = retryAfter === null ? null : Number(retryAfter);
  return new ServerError(message, status, Number.isFinite(seconds) ? seconds : null);
}

/**
 * Posts one file as the form would (XHR rather than fetch: only XHR reports upload progress).
 * `onProgress` gets the fraction of the body sent, from 0 to 1.
 */
export function uploadFile(
  file: File, uploadToken: string | null, onProgress: (sent: number) => void, terms: readonly (readonly [string, string])[] = [],
): Promise<UploadedJson> {
  const form = new FormData();
  form.append('_xsrf', xsrfToken());
  // The server takes an upload's terms (unlisted, expires_in, max_views) only before its file.
  for (const [name, value] of terms) form.append(name, value);
  form.append('file', file, file.name);
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/');
  xhr.setRequestHeader('accept', 'application/json');
  xhr.setRequestHeader('x-xsrf-token', xsrfToken());
  if (uploadToken !== null) xhr.setRequestHeader('authorization', `Bearer ${uploadToken}`);
  xhr.upload.addEventListener('progress', (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); });
  xhr.upload.addEventListener('load', () => { onProgress(1); });
  return new Promise((resolve, reject) => {
    xhr.addEventListener('load', () => {
      if (xhr.status !== 201) { reject(errorOf(xhr.status, xhr.responseText, xhr.getResponseHeader('retry-after'))); return; }
      const { images } = JSON.parse(xhr.responseText) as { images: UploadedJson[] };
      const [image] = images;
      if (image) resolve(image); else reject(new ServerError('the server stored nothing', xhr.status));
    });
    xhr.addEventListener('error', () => { reject(new ServerError('the connection to the server failed', 0)); });
    xhr.send(form);
  });
}

export async function deleteImage(id: string, deleteToken: string): Promise<void> {
  const res = await fetch(`/i/${encodeURIComponent(id)}/delete`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', 'x-xsrf-token': xsrfToken() },
    body: JSON.stringify({ delete_token: deleteToken }),
  });
  if (res.status !== 204) throw errorOf(res.status, await res.text(), res.headers.get('retry-after'));
}

/**
 * Another page of the site, parsed, so its server-rendered parts can be moved into this one. A
 * template's content is inert: nothing in it loads, runs, or applies styles, where a parsed
 * document would apply its <style> block, which this page's CSP refuses (its nonce is another).
 */
export async function fetchPage(url: string): Promise<DocumentFragment> {
  const res = await fetch(url, { headers: { accept: 'text/html' } });
  if (!res.ok) throw errorOf(res.status, await res.text(), null);
  const template = document.createElement('template');
  template.innerHTML = await res.text();
  return template.content;
}
