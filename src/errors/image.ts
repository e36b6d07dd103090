// Images whose bytes the server will not decode or keep, found while probing or decoding them: an
// upload and a variant made later are refused alike.
import { formatBytes } from '../bytes.js';
import { formatLabels } from '../images/formats.js';
import { AppError } from './app-error.js';

export class NotAnImage extends AppError {
  constructor() { super(400, 'NOT_AN_IMAGE', 'cannot identify image file'); }
}

export class TooManyPixels extends AppError {
  constructor(width: number, height: number, frames: number, limit: number) {
    const frameText = frames > 1 ? ` x ${String(frames)} frames` : '';
    const megapixels = (n: number) => { const mp = Math.round(n / 100_000) / 10; return `${String(mp)} megapixel${mp === 1 ? '' : 's'}`; };
    super(413, 'TOO_MANY_PIXELS', `the image is ${String(width)}x${String(height)}${frameText}, ${megapixels(width * height * frames)}, `
      + `more than the limit of ${megapixels(limit)}`);
  }
}

/** Decoding the image would need more memory than decode_budget, judged from its header. */
export class OverDecodeBudget extends AppError {
  /** `needBytes`: the estimate, when the image was refused from its header rather than stopped while decoding. */
  constructor(budgetBytes: number, needBytes?: number) {
    super(413, 'OVER_DECODE_BUDGET', needBytes === undefined
      ? `decoding the image took more memory than the ${formatBytes(budgetBytes)} limit per image allows`
      : `decoding the image would need about ${formatBytes(needBytes)} of memory, more than the ${formatBytes(budgetBytes)} limit`);
  }
}

/** Decoding or thumbnailing the image took longer than thumb_timeout (e.g. a JPEG of thousands of scans). */
export class ImageTooComplex extends AppError {
  constructor(seconds: number) {
    super(422, 'IMAGE_TOO_COMPLEX', `the image took longer than ${String(seconds)} s to decode; send a simpler file`);
  }
}

/** A progressive JPEG of more scans than any encoder writes: each one costs a pass over the whole image. */
export class TooManyScans extends AppError {
  constructor(limit: number) {
    super(422, 'TOO_MANY_SCANS', `the progressive JPEG has more than ${String(limit)} scans (encoders write about ten); send a simpler file`);
  }
}

export class TooManyFrames extends AppError {
  constructor(format: string, limit: number) {
    super(422, 'TOO_MANY_FRAMES', `the ${format} has more than ${String(limit)} frames or too many other parts; send a simpler file`);
  }
}

export class UnsupportedFormat extends AppError {
  constructor(format: string) { super(415, 'UNSUPPORTED_FORMAT', `${format} files are not accepted; send ${formatLabels}`); }
}
