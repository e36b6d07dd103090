// A load generator in a process of its own: uploads in a closed loop until told to stop, then
// reports how many finished. The isolation scenario times GETs in the benchmark process, whose
// event loop must not be the one busy sending megabytes of uploads.
import { uploadUntil } from './client.js';
import { uniqueCopy } from './images.js';

export interface UploadLoad { url: string; template: Uint8Array; mime: string; concurrency: number; firstCopy: number }

const send = (message: unknown): void => { process.send?.(message); };

process.once('message', (load: UploadLoad) => {
  const body = Buffer.from(load.template.buffer, load.template.byteOffset, load.template.byteLength);
  let copy = load.firstCopy;
  const stopped = new Promise<void>((resolve) => { process.once('message', () => { resolve(); }); });
  uploadUntil(stopped, load.url, () => uniqueCopy(body, ++copy), load.mime, load.concurrency).then(
    (done) => { send({ done }); },
    (err: unknown) => { send({ error: err instanceof Error ? err.message : String(err) }); },
  ).finally(() => { process.disconnect(); });
});
