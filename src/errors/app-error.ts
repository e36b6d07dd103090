// What every catalogued error carries (status, code, message, headers), so that the error handler
// answers any of them the same way without knowing which it is.

export class AppError extends Error {
  /** Errors that mean the server is damaged, not that the client erred: logged as errors. */
  readonly damage: boolean = false;
  /** The name of the uploaded file the error is about, when a request may carry several: its page shows it. */
  file: string | null = null;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** `err`, marked as being about the uploaded file `name` unless it already names one. */
export function aboutFile<E>(err: E, name: string | null): E {
  if (err instanceof AppError && err.file === null) err.file = name;
  return err;
}
