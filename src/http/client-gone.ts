// Whether the client is still there to be answered: an upload whose client left before its
// answer is dropped (ingest.ts), since nobody would ever learn its link or its delete token.
import type { ServerResponse } from 'node:http';

/** Aborted when the connection closes before the response was sent whole. */
export function clientGone(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => { if (!response.writableFinished) controller.abort(); });
  return controller.signal;
}
