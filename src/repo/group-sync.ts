// Group commit: a flush to disk shared by every commit made while the previous flush ran. Each
// caller is answered only by a flush that began after it asked, so its commit is in it; however
// many commits arrive meanwhile, at most one flush runs and one waits.

export class GroupSync {
  private running: Promise<void> | null = null;
  private waiting: Promise<void> | null = null;

  constructor(private readonly flush: () => Promise<void>) {}

  /** Resolves once a flush that began after this call has finished (rejects if it failed). */
  sync(): Promise<void> {
    if (this.running === null) return this.start();
    // The running flush may have begun before the caller's commit: it waits for the next one.
    this.waiting ??= this.running.catch(() => undefined).then(() => {
      this.waiting = null;
      return this.start();
    });
    return this.waiting;
  }

  private start(): Promise<void> {
    const run = this.flush().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }
}
