// How many uploads are being received, probed and stripped at once: at most `max` in all and at
// most `maxPerClient` from one client. Past either, a new upload is refused before its body is
// read. The per-client bound is what keeps one client, trickling bodies slowly, from holding
// every slot until request_timeout while everybody else gets 503.
import { Busy, TooManyUploadsAtOnce } from './errors.js';

export class ReceiveSlots {
  private total = 0;
  private readonly byClient = new Map<string, number>();

  /** `maxPerClient` 0: no per-client bound. */
  constructor(private readonly max: number, private readonly maxPerClient: number) {}

  /** Throws Busy (all slots taken) or TooManyUploadsAtOnce (this client's are). `client`: its address key, if known. */
  assertRoom(client?: string): void {
    if (this.total >= this.max) throw new Busy(1, 'receiving uploads');
    if (client !== undefined && this.maxPerClient > 0 && (this.byClient.get(client) ?? 0) >= this.maxPerClient) {
      throw new TooManyUploadsAtOnce(this.maxPerClient);
    }
  }

  /** Takes a slot; the returned function gives it back (once, however often called). */
  take(client?: string): () => void {
    // Checked again here: requests admitted together may have filled the slots meanwhile.
    this.assertRoom(client);
    this.total++;
    if (client !== undefined) this.byClient.set(client, (this.byClient.get(client) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.total--;
      if (client === undefined) return;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left === 0) this.byClient.delete(client);
      else this.byClient.set(client, left);
    };
  }

  get receiving(): number { return this.total; }
}
