// Bounds on uploads in progress: at most `max` being received, probed and stripped at once in all,
// and at most `maxPerClient` in flight from one client, from the first byte until the answer
// (waiting for a thumbnail included). Past either, a new upload is refused before its body is
// read. The per-client bound is what keeps one client from holding every receive slot with
// bodies trickled slowly until request_timeout, or from filling the thumbnail queue that everybody
// shares.
import { Busy, TooManyUploadsAtOnce } from './errors.js';

/** An upload's place: `received()` when its bytes are in and checked, `done()` once it is answered. */
export interface Slot { readonly received: () => void; readonly done: () => void }

export class ReceiveSlots {
  private receiving = 0;
  private readonly byClient = new Map<string, number>();

  /** `maxPerClient` 0: no per-client bound. */
  constructor(private readonly max: number, private readonly maxPerClient: number) {}

  /** Throws Busy (all receive slots taken) or TooManyUploadsAtOnce (this client's). `client`: its address key, if known. */
  assertRoom(client?: string): void {
    if (this.receiving >= this.max) throw new Busy(1, 'receiving uploads');
    if (client !== undefined && this.maxPerClient > 0 && (this.byClient.get(client) ?? 0) >= this.maxPerClient) {
      throw new TooManyUploadsAtOnce(this.maxPerClient);
    }
  }

  /** Takes a slot; each of its two steps gives back its part once, however often called. */
  take(client?: string): Slot {
    // Checked again here: requests admitted together may have filled the slots meanwhile.
    this.assertRoom(client);
    this.receiving++;
    if (client !== undefined) this.byClient.set(client, (this.byClient.get(client) ?? 0) + 1);
    let receiving = true;
    let inFlight = true;
    const received = (): void => {
      if (receiving) this.receiving--;
      receiving = false;
    };
    return {
      received,
      done: () => {
        received();
        if (!inFlight) return;
        inFlight = false;
        if (client === undefined) return;
        const left = (this.byClient.get(client) ?? 1) - 1;
        if (left === 0) this.byClient.delete(client);
        else this.byClient.set(client, left);
      },
    };
  }
}
