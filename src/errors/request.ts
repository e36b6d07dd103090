// Requests the server cannot act on, whatever they ask for: bad parameters or Host, and connections
// that do not carry valid HTTP in time.
import { AppError } from './app-error.js';

export class BadRequest extends AppError {
  constructor(message: string) { super(400, 'BAD_REQUEST', message); }
}

/** A Host (or forwarded host or scheme) the server will not build links from. */
export class BadHost extends AppError {
  constructor(reason: string) { super(400, 'BAD_HOST', reason); }
}

// Errors of the connection itself, answered on the socket before it is closed.

/** The request did not arrive whole within request_timeout (a slow-loris client). */
export class RequestTimeout extends AppError {
  constructor() { super(408, 'REQUEST_TIMEOUT', 'the request was not received in time'); }
}

export class HeadersTooLarge extends AppError {
  constructor() { super(431, 'HEADERS_TOO_LARGE', 'the request headers are too large'); }
}

/** Bytes on the connection that do not parse as HTTP/1.1. */
export class MalformedHttp extends AppError {
  constructor() { super(400, 'MALFORMED_HTTP', 'the request is not valid HTTP'); }
}
