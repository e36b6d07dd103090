// What a request for an image, one of its variants, its oEmbed or the list of images can be
// answered instead of the bytes.
import { AppError } from './app-error.js';

export class NotFound extends AppError {
  constructor(what = 'image not found') { super(404, 'NOT_FOUND', what); }
}

export class BlobMissing extends AppError {
  override readonly damage = true;
  constructor(key: string) { super(404, 'BLOB_MISSING', `the stored file ${key} is missing`); }
}

/** An image past its expiry or its view limit, or removed by a takedown: its links are gone for good. */
export class Gone extends AppError {
  constructor(why: string) { super(410, 'GONE', why); }
}

/** With --public_listing=false the list is not there to find, as pict-rs has none: a 404 saying why. */
export class ListingDisabled extends AppError {
  constructor() { super(404, 'LISTING_DISABLED', 'this server does not list its images; open one by its link'); }
}

/** A signed variant URL on a server without --signing_key: only the named sizes exist there. */
export class SignedUrlsDisabled extends AppError {
  constructor() { super(404, 'SIGNED_URLS_DISABLED', 'signed URLs are not enabled on this server; ask for a named size'); }
}

/** A signed variant URL whose signature was not made with this server's key for that id and box. */
export class BadSignature extends AppError {
  constructor() { super(403, 'BAD_SIGNATURE', 'the URL signature is missing or wrong for this image and box'); }
}

/** The box of a signed variant URL, or given to `imghost sign`, that no rendition is made for. */
export class BadVariantBox extends AppError {
  constructor(box: string, why: string) { super(400, 'BAD_VARIANT_BOX', `the box '${box}' ${why}`); }
}

/** An oEmbed request for a format other than JSON: the oEmbed spec's answer is 501. */
export class OEmbedFormatUnsupported extends AppError {
  constructor(format: string) { super(501, 'OEMBED_FORMAT_UNSUPPORTED', `oEmbed answers in json only, not '${format}'`); }
}
