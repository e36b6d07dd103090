// Animated GIF and WebP uploads on the real server: the JSON says they are animated, their
// variants keep every frame with its delay and the loop count (WebP, or GIF without WebP in
// Accept), a still format asked for by extension gives the first frame, the grid plays them, and
// an animation of too many pixels in all is refused at upload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { signedPath } from '../../src/variants/signing.js';
import { assertNothingHalfStored, assertRefusal } from '../hostile/answers.js';
import { attributes, tags } from '../helpers/html.js';
import { gif } from '../helpers/hostile.js';
import { animatedGif, solid } from '../helpers/images.js';
import { startTestServer, type TestServer, type UploadedImage } from '../helpers/server.js';

type Uploaded = UploadedImage & { animated: boolean; frames: number };

const DELAYS = [100, 200, 300];
const LOOPS = 3;
const WEBP = 'image/avif,image/webp,*/*';

/** Three frames (red, green, blue) of 600 x 400, shown for 100, 200 and 300 ms, played three times. */
async function threeFrames(format: 'gif' | 'webp'): Promise<Buffer> {
  const animation = sharp(await animatedGif(3, 600, 400), { animated: true });
  return (format === 'gif' ? animation.gif({ delay: DELAYS, loop: LOOPS }) : animation.webp({ delay: DELAYS, loop: LOOPS })).toBuffer();
}

describe('animated images', () => {
  let s: TestServer;
  let animGif: Uploaded, animWebp: Uploaded, stillGif: Uploaded;
  const bytesOf = async (path: string, accept = '*/*') => {
    const res = await s.fetch(path, { headers: { accept } });
    assert.equal(res.status, 200, path);
    return { type: res.headers.get('content-type'), vary: res.headers.get('vary'), data: Buffer.from(await res.arrayBuffer()) };
  };
  /** Format, frame size, frames, delays and loop count of an encoded image, as sharp reads them. */
  const framesOf = async (data: Buffer) => {
    const { format, width, height, pages, delay, loop } = await sharp(data).metadata();
    return { format, width, height, pages: pages ?? 1, delay, loop };
  };
  before(async () => {
    s = await startTestServer();
    animGif = await s.uploadOk(await threeFrames('gif')) as Uploaded;
    animWebp = await s.uploadOk(await threeFrames('webp')) as Uploaded;
    stillGif = await s.uploadOk(await solid(600, 400, '#3366cc', 'gif')) as Uploaded;
  });
  after(() => s.close());

  it('says in the JSON whether an image is animated and how many frames it has', async () => {
    for (const [image, animated, frames] of [[animGif, true, 3], [animWebp, true, 3], [stillGif, false, 1]] as const) {
      assert.deepEqual([image.animated, image.frames, image.width, image.height], [animated, frames, 600, 400], image.format);
      const fetched = await (await s.fetch(`/api/images/${image.id}`)).json() as Uploaded;
      assert.deepEqual([fetched.animated, fetched.frames], [animated, frames], image.format);
    }
    const pages = await s.uploadOk(await sharp(await animatedGif(3, 60, 40), { animated: true }).tiff().toBuffer()) as Uploaded;
    assert.deepEqual([pages.format, pages.animated, pages.frames], ['tiff', false, 3], "a TIFF's pages are no animation");
  });

  it('gives an animated WebP of every frame, delays and loop count kept, to a client that takes WebP', async () => {
    for (const image of [animGif, animWebp]) {
      const { type, vary, data } = await bytesOf(`/imgs/${image.id}/small`, 'image/webp,*/*');
      assert.deepEqual([type, vary], ['image/webp', 'Accept'], image.format);
      assert.deepEqual(await framesOf(data), { format: 'webp', width: 320, height: 213, pages: 3, delay: DELAYS, loop: LOOPS }, image.format);
    }
  });

  it('gives an animated GIF when WebP is not accepted: the family of an animation is GIF, for a WebP too', async () => {
    for (const image of [animGif, animWebp]) {
      const { type, data } = await bytesOf(`/imgs/${image.id}/small`, 'image/png,image/*;q=0.8');
      assert.equal(type, 'image/gif', image.format);
      assert.deepEqual(await framesOf(data), { format: 'gif', width: 320, height: 213, pages: 3, delay: DELAYS, loop: LOOPS }, image.format);
    }
  });

  it('answers WebP, not still AVIF, to a client that prefers AVIF; GIF to one that accepts AVIF but not WebP', async () => {
    const { type, vary, data } = await bytesOf(`/imgs/${animGif.id}/medium`, WEBP);
    assert.deepEqual([type, vary], ['image/webp', 'Accept']);
    assert.deepEqual(await framesOf(data), { format: 'webp', width: 600, height: 400, pages: 3, delay: DELAYS, loop: LOOPS });
    const avifOnly = await bytesOf(`/imgs/${animGif.id}/medium`, 'image/avif,image/png;q=0.9');
    assert.equal(avifOnly.type, 'image/gif');
    assert.equal((await framesOf(avifOnly.data)).pages, 3);
  });

  it('keeps every frame in .webp and .gif, and gives the first frame in .avif, .jpg and .png', async () => {
    for (const [ext, format, pages] of [['webp', 'webp', 3], ['gif', 'gif', 3], ['avif', 'heif', 1], ['jpg', 'jpeg', 1], ['png', 'png', 1]] as const) {
      const { data } = await bytesOf(`/imgs/${animGif.id}/small.${ext}`);
      const meta = await framesOf(data);
      assert.deepEqual([meta.format, meta.width, meta.height, meta.pages], [format, 320, 213, pages], ext);
      if (pages === 1) {
        const { channels: [red, green, blue] } = await sharp(data).stats();
        assert.ok((red?.mean ?? 0) > 200 && (green?.mean ?? 255) < 50 && (blue?.mean ?? 255) < 50, `${ext}: the first (red) frame`);
      }
    }
  });

  it('records still and animated renditions of one box and format apart', async () => {
    await bytesOf(`/imgs/${animGif.id}/large.gif`);
    const specs = (await s.server.library.repo.variantsOf(animGif.sha256)).map((v) => v.spec);
    assert.ok(specs.includes('1600:gif:animated'), specs.join(' '));
    assert.ok(!specs.some((spec) => spec.startsWith('1600:gif') && spec !== '1600:gif:animated'), 'no still GIF stands for it');
    const encodes = s.server.library.variants.encodes;
    assert.equal((await bytesOf(`/imgs/${animGif.id}/large`, '*/*')).type, 'image/gif');
    assert.equal(s.server.library.variants.encodes, encodes, 'its family is the same rendition as .gif, not encoded again');
    assert.ok(specs.includes('320:avif') && specs.includes('320:webp:animated'), specs.join(' '));
  });

  it('leaves still images still, GIFs included', async () => {
    for (const accept of [WEBP, 'image/webp', '*/*']) {
      const { type, data } = await bytesOf(`/imgs/${stillGif.id}/small`, accept);
      const meta = await framesOf(data);
      assert.equal(meta.pages, 1, accept);
      assert.equal(type, accept === '*/*' ? 'image/gif' : accept === WEBP ? 'image/avif' : 'image/webp');
    }
    const specs = (await s.server.library.repo.variantsOf(stillGif.sha256)).map((v) => v.spec);
    assert.ok(specs.length > 0 && specs.every((spec) => !spec.endsWith(':animated')), specs.join(' '));
  });

  it('plays an animation in the grid from its smallest variant, and keeps still thumbnails for the rest', async () => {
    const imgs = tags(await (await s.fetch('/')).text(), 'img').map(attributes);
    // The page links its images by site paths.
    const grid = (image: Uploaded) => imgs.find((a) => a.src === s.path(image.thumb_url));
    const small = (image: Uploaded) => s.path(image.variants.small ?? '');
    for (const image of [animGif, animWebp]) {
      assert.equal(grid(image)?.srcset, `${small(image)} 1x, ${small(image)} 2x`, image.format);
      assert.deepEqual([grid(image)?.width, grid(image)?.height], [String(image.thumb.width), String(image.thumb.height)]);
      assert.equal((await framesOf((await bytesOf(image.variants.small ?? '', WEBP)).data)).pages, 3);
    }
    assert.equal(grid(stillGif)?.srcset, `${s.path(stillGif.thumb_url)} 1x, ${small(stillGif)} 2x`);
    assert.equal((await framesOf((await bytesOf(animGif.thumb_url)).data)).pages, 1, 'the thumbnail itself stays still');
  });
});

describe('signed boxes of an animation', () => {
  it('keep every frame, cropped around the centre when entropy or attention is asked (libvips finds them in still images only)', async (t) => {
    const key = 'animation key';
    const s = await startTestServer({ signing_key: key });
    t.after(() => s.close());
    const image = await s.uploadOk(await threeFrames('gif'));
    for (const [box, format] of [['200x200-cover-entropy', 'webp'], ['200x200-cover-attention.gif', 'gif'], ['200x200-cover-north.webp', 'webp']] as const) {
      const res = await s.fetch(signedPath(key, image.id, box), { headers: { accept: WEBP } });
      assert.equal(res.status, 200, box);
      const { pages, width, height, delay } = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      assert.deepEqual([res.headers.get('content-type'), width, height, pages, delay], [`image/${format}`, 200, 200, 3, DELAYS], box);
    }
  });
});

describe('an animation bomb', () => {
  it('is refused at upload (413) when its frames together pass max_pixels, however few they are', async (t) => {
    const s = await startTestServer();
    t.after(() => s.close());
    // Thirty frames on a 2000 x 2000 screen (libnsgif takes screens up to 2048 a side), one
    // pixel drawn in each: 120 megapixels to compose, in a file of 700 bytes.
    const bomb = gif({ width: 2000, height: 2000, frames: 30 });
    assert.ok(bomb.length < 1000 && 30 <= s.config.max_frames && 2000 * 2000 <= s.config.max_pixels);
    const refusal = await assertRefusal(await s.upload(bomb), 413, /2000x2000 x 30 frames, 120 megapixels, more than the limit of 100 megapixels/);
    assert.equal(refusal.error, 'TOO_MANY_PIXELS');
    await assertNothingHalfStored(s, []);
  });
});
