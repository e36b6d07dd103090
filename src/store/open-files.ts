// A bounded cache of open blob files, so a GET of a recently served blob reads from a file that
// is already open instead of opening and closing it through libuv's thread pool each time.
//
// Serving from a cached descriptor is safe because a blob file is never written in place: its
// name is the hash of its bytes, and a put renames a whole new file over it. What a cached
// descriptor can outlive is a removal: a deleted or parked blob's file stays readable through it.
// The route looks the image up before it asks the store, so a deleted image is answered 404
// first; and the store forgets the blob here as it parks it, so the descriptor is closed as soon
// as the responses reading from it end. A blob removed by another process (`imghost gc`) is held
// open here for at most TTL_MS, which bounds how long its disk space stays in use.
import { LRUCache } from 'lru-cache';
import { close, fstat, open } from 'node:fs';
import { promisify } from 'node:util';

const openFile = promisify(open);
const closeFile = promisify(close);
const statFile = promisify(fstat);

/** An open descriptor, and its file's size, lent to one reader; `release` once the reader is done with it. */
export interface Lease { fd: number; bytes: number; release: () => void }

interface Entry { fd: number; bytes: number; readers: number; dropped: boolean }

const TTL_MS = 60_000;

export class OpenFiles {
  private readonly entries: LRUCache<string, Entry>;
  /** Opens under way, so concurrent first reads of a blob share one descriptor. */
  private readonly opening = new Map<string, { entry: Promise<Entry>; forgotten: boolean }>();

  constructor(max: number) {
    this.entries = new LRUCache({ max, ttl: TTL_MS, ttlAutopurge: true, dispose: (entry) => { this.drop(entry); } });
  }

  /** Lends the open descriptor of `path` (cached under `key`); rejects as `open` does. */
  async lease(key: string, path: string): Promise<Lease> {
    const entry = this.entries.get(key) ?? await this.opened(key, path);
    entry.readers += 1;
    let released = false;
    return {
      fd: entry.fd,
      bytes: entry.bytes,
      release: () => {
        if (released) return;
        released = true;
        entry.readers -= 1;
        this.closeIfIdle(entry);
      },
    };
  }

  /** The blob is being removed: its descriptor is closed once no reader holds it, and not lent again. */
  forget(key: string): void {
    this.entries.delete(key);
    const pending = this.opening.get(key);
    if (pending) pending.forgotten = true;
  }

  /** Closes every descriptor no reader holds, and the others as their readers finish. */
  close(): void {
    this.entries.clear();
    for (const pending of this.opening.values()) pending.forgotten = true;
  }

  private opened(key: string, path: string): Promise<Entry> {
    const pending = this.opening.get(key);
    if (pending) return pending.entry;
    const opening = { forgotten: false, entry: openSized(path) };
    this.opening.set(key, opening);
    return opening.entry.then((entry) => {
      // A descriptor opened while the blob was being removed serves the reads that asked for it only.
      if (opening.forgotten) entry.dropped = true;
      else this.entries.set(key, entry);
      return entry;
    }).finally(() => {
      this.opening.delete(key);
    });
  }

  private drop(entry: Entry): void {
    entry.dropped = true;
    this.closeIfIdle(entry);
  }

  private closeIfIdle(entry: Entry): void {
    // Closed only when no reader holds it: a descriptor number closed under a reader could be
    // reused by another file, whose bytes that reader would then send.
    if (entry.dropped && entry.readers === 0) void closeFile(entry.fd).catch(() => undefined);
  }
}

async function openSized(path: string): Promise<Entry> {
  const fd = await openFile(path, 'r');
  try {
    return { fd, bytes: (await statFile(fd)).size, readers: 0, dropped: false };
  } catch (err) {
    await closeFile(fd);
    throw err;
  }
}
