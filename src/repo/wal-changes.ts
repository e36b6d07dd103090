// Whether any connection has committed to a SQLite database in WAL mode since the last look, for
// the price of one 48-byte read: the WAL-index header at the start of the `-shm` file, which every
// commit rewrites (its change counter, last frame and salts; https://www.sqlite.org/walformat.html,
// "The WAL-Index Header"). It is what SQLite's own readers check before trusting their page cache.
// Asking SQLite (PRAGMA data_version) begins a read transaction, which costs more than a cached
// thumbnail GET's other work.
import { closeSync, openSync, readSync } from 'node:fs';

const HEADER = 48;

export class WalChanges {
  private fd: number | null = null;
  private readonly current = Buffer.alloc(HEADER);
  private readonly seen = Buffer.alloc(HEADER);

  /** `databasePath` of a database another connection may write; null for one only this process sees (`:memory:`). */
  constructor(private readonly databasePath: string | null) {}

  /** True when the database may have changed since the last call: always, when the header cannot be read. */
  changed(): boolean {
    if (this.databasePath === null) return false;
    try {
      this.fd ??= openSync(`${this.databasePath}-shm`, 'r');
      if (readSync(this.fd, this.current, 0, HEADER, 0) < HEADER) return true;
    } catch {
      return true;
    }
    if (this.current.equals(this.seen)) return false;
    this.current.copy(this.seen);
    return true;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
