// The upload form as a browser without JavaScript uses it: open / for its cookie and token, post
// the files as multipart/form-data, and read the pages it answers with.
import assert from 'node:assert/strict';
import { attributes, cookieHeader, tags } from './html.js';
import type { TestServer } from './server.js';

export interface Session { cookie: string; token: string; html: string }

/** Opens / as a browser would: keeps the cookie it sets and reads the form's token. */
export async function openForm(s: TestServer, cookie = ''): Promise<Session> {
  const res = await s.fetch('/', { headers: cookie === '' ? {} : { cookie } });
  assert.equal(res.status, 200);
  const html = await res.text();
  const input = tags(html, 'input').map(attributes).find((a) => a.name === '_xsrf');
  assert.ok(input?.value, 'the form carries an _xsrf token');
  return { cookie: cookie === '' ? cookieHeader(res) : cookie, token: input.value, html };
}

export interface FormFile { data: Buffer; filename: string; type?: string }

/** A multipart body as a browser sends the form: the hidden fields first, then the files. */
export function formBody(fields: Record<string, string>, files: FormFile[]): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const { data, filename, type = 'application/octet-stream' } of files) {
    form.append('file', new Blob([new Uint8Array(data)], { type }), filename);
  }
  return form;
}

export function postForm(s: TestServer, body: FormData, headers: Record<string, string> = {}): Promise<Response> {
  return s.fetch('/', { method: 'POST', body, headers, redirect: 'manual' });
}

/** Each labelled read-only field of a page fragment, by its label's text. */
export function fields(html: string): Record<string, string> {
  const values = new Map(tags(html, 'input').map(attributes).map((a) => [a.id, a.value ?? '']));
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<label for="([^"]+)">([^<]*)<\/label>/g)) {
    const value = values.get(m[1]);
    if (value !== undefined) out[(m[2] ?? '').trim()] = value;
  }
  return out;
}
