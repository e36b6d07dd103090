// HTTP/1.1 spoken by hand over a socket, for what fetch will not send: unnormalised paths with
// `../` and raw UTF-8, headers that never end, bodies dripped byte by byte, bytes that are not HTTP.
import { connect } from 'node:net';

export interface Exchange {
  /** Null when nothing that parses as a status line came back. */
  status: number | null;
  /** Response headers, names in lower case. */
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from the first byte sent until the server closed the connection; null if it did not within the limit. */
  closedAfterMs: number | null;
}

export interface ExchangeOptions {
  /** Written again every `everyMs` until the connection closes: a client that sends, but too slowly. */
  drip?: { bytes: string; everyMs: number };
  /** How long to wait for the server to close the connection. Bounds the wait; measures nothing. */
  limitMs?: number;
}

/** Sends `request` on a new connection to `url` and collects the answer until the server closes. */
export async function exchange(url: string, request: string | Buffer, { drip, limitMs = 10_000 }: ExchangeOptions = {}): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => { received.push(chunk); });
  // A reset after the answer arrived still leaves the answer to read.
  socket.on('error', () => undefined);
  const started = Date.now();
  socket.write(request);
  const dripping = drip && setInterval(() => { if (socket.writable) socket.write(drip.bytes); }, drip.everyMs);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => { resolve(false); }, limitMs);
    socket.once('close', () => { clearTimeout(timer); resolve(true); });
  });
  const closedAfterMs = closed ? Date.now() - started : null;
  clearInterval(dripping);
  socket.destroy();
  return { ...parseResponse(Buffer.concat(received).toString('utf8')), closedAfterMs };
}

function parseResponse(text: string): Omit<Exchange, 'closedAfterMs'> {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = (end === -1 ? text : text.slice(0, end)).split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1];
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: status === undefined ? null : Number(status), headers, body: end === -1 ? '' : text.slice(end + 4) };
}

/** A complete request with no body for `path`, sent exactly as given. */
export function simpleRequest(method: string, path: string, headers: Record<string, string> = {}): Buffer {
  const lines = Object.entries({ host: 'localhost', connection: 'close', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  return Buffer.from(`${method} ${path} HTTP/1.1\r\n${lines.join('')}\r\n`, 'utf8');
}
