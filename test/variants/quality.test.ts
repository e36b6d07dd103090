// The quality of variants: every output format of a photograph-like image, made by the real
// server, against a reference resize (sharp's Lanczos-3 to the same size, in sRGB), held to a
// PSNR floor; a damaged copy of the same output fails the same check, so the floors mean
// something. An image stored sideways in Display P3 must match its upright sRGB original.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { blockMeans, psnr, srgbPixels, texturedScene, type Pixels } from '../helpers/quality.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * PSNR floors in dB of the 800 x 533 `medium` variant of a 1800 x 1200 textured scene, per
 * extension. Measured (sharp 0.35): webp 36.9, avif 36.3, jpg 36.4, png 48.7, gif 45.4; the same
 * scene stored sideways in Display P3 (a JPEG at quality 95, so a little lost already): 36.8,
 * 36.2, 36.3, 44.7, 43.6. Each floor is about 1 dB under the lower figure. Damaged copies of the
 * variants measure at most 33.4 (blurred, sigma 3), 31.7 (shifted 2 px), 14.0 (upside down).
 */
const FLOORS: Readonly<Record<string, number>> = { webp: 35.5, avif: 35, jpg: 35, png: 42, gif: 41 };

/**
 * PSNR floor in dB of the colours at a coarse scale (means of 8 x 8 squares), where the
 * encoders' loss averages out. Measured on the Display P3 image: 48.4 to 52.7 over the five
 * formats; the P3 numbers shown as if they were sRGB (the profile ignored): 37.4.
 */
const COLOUR_FLOOR = 45;

const EXTENSIONS = Object.keys(FLOORS);

describe('variant quality', () => {
  let s: TestServer;
  /** The scene as it should look: upright, sRGB. */
  let upright: Buffer;
  let plainId: string;
  /** The same scene stored rotated a quarter turn with EXIF orientation 6, its pixels in Display P3. */
  let turned: Buffer;
  let turnedId: string;
  before(async () => {
    s = await startTestServer();
    upright = await texturedScene(1800, 1200);
    plainId = (await s.uploadOk(upright)).id;
    // Tagged sRGB first: sharp converts to the output profile only from a known input profile.
    const tagged = await sharp(upright).withIccProfile('srgb').jpeg({ quality: 95 }).toBuffer();
    turned = await sharp(tagged).rotate(270).withMetadata({ orientation: 6 }).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
    turnedId = (await s.uploadOk(turned)).id;
  });
  after(() => s.close());

  const variant = async (id: string, ext: string): Promise<Pixels> => {
    const res = await s.fetch(`/imgs/${id}/medium.${ext}`);
    assert.equal(res.status, 200, ext);
    return srgbPixels(Buffer.from(await res.arrayBuffer()));
  };
  /** The reference: the upright sRGB scene resized by sharp (Lanczos-3) to the variant's size. */
  const reference = ({ width, height }: Pixels) =>
    srgbPixels(sharp(upright).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }));
  const edited = (pixels: Pixels, edit: (image: Sharp) => Sharp) =>
    srgbPixels(edit(sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 3 } })));

  for (const ext of EXTENSIONS) {
    const floor = FLOORS[ext] ?? Infinity;
    it(`${ext}: holds ${String(floor)} dB against the reference, and fails it blurred, shifted or upside down`, async (t) => {
      const made = await variant(plainId, ext);
      assert.deepEqual([made.width, made.height], [800, 533]);
      const ref = await reference(made);
      const measured = psnr(made, ref);
      t.diagnostic(`${ext}: ${measured.toFixed(2)} dB`);
      assert.ok(measured >= floor, `${measured.toFixed(2)} dB, floor ${String(floor)}`);
      const damaged = {
        blurred: await edited(made, (image) => image.blur(3)),
        shifted: await edited(made, (image) => image.extract({ left: 2, top: 0, width: made.width - 2, height: made.height })
          .extend({ right: 2, extendWith: 'copy' })),
        'upside down': await edited(made, (image) => image.rotate(180)),
      };
      for (const [damage, pixels] of Object.entries(damaged)) {
        const score = psnr(pixels, ref);
        assert.ok(score < floor, `${damage}: ${score.toFixed(2)} dB passes the floor of ${String(floor)}`);
      }
    });
  }

  it('turns an image upright by its EXIF orientation and converts Display P3 to sRGB, in every format', async (t) => {
    // What a server that ignored the profile would show: the P3 numbers, read as sRGB.
    const ignored = await srgbPixels(sharp(turned, { ignoreIcc: true }).rotate().resize(800, 533, { fit: 'fill', kernel: 'lanczos3' }));
    const colours = (pixels: Pixels) => blockMeans(pixels);
    const ref = await reference(ignored);
    const ignoredColours = psnr(colours(ignored), colours(ref));
    t.diagnostic(`profile ignored: colours ${ignoredColours.toFixed(2)} dB`);
    assert.ok(ignoredColours < COLOUR_FLOOR, 'the colour check tells a profile ignored');
    for (const ext of EXTENSIONS) {
      const made = await variant(turnedId, ext);
      assert.deepEqual([made.width, made.height], [800, 533], `${ext} is upright`);
      const [detail, colour] = [psnr(made, ref), psnr(colours(made), colours(ref))];
      t.diagnostic(`${ext}: ${detail.toFixed(2)} dB, colours ${colour.toFixed(2)} dB`);
      assert.ok(detail >= (FLOORS[ext] ?? Infinity), `${ext}: ${detail.toFixed(2)} dB`);
      assert.ok(colour >= COLOUR_FLOOR, `${ext}: colours ${colour.toFixed(2)} dB`);
    }
  });
});
