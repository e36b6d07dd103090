// Metadata stripping on generated images: what identifies a photo (GPS and camera EXIF, XMP,
// IPTC, comments, trailing data) is gone, the pixels decode identically, the orientation and the
// colour profile are kept, and a file with nothing to remove is left exactly as it was.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { orientationOnly } from '../../src/images/strip/exif.js';
import { sha256 } from '../../src/hash.js';
import { gif, pngChunk, withPngChunks } from '../helpers/hostile.js';
import { photo } from '../helpers/images.js';
import { segment, withSegments } from '../helpers/jpeg.js';
import { IDENTIFYING, identifyingPhoto, xmpPacket } from '../helpers/metadata.js';
import { stripUpload } from '../helpers/stripped.js';

/** Strips `data` as an upload is stripped; returns the stored file and whether it differs. */
async function strip(data: Buffer, format: string) {
  const { out, spooled } = await stripUpload(data, format);
  if (spooled) assert.deepEqual(spooled, { hash: sha256(out), bytes: out.length }, 'the reported hash and size describe the file');
  return { out, changed: !out.equals(data) };
}

const pixels = (data: Buffer) => sharp(data, { pages: -1 }).raw().toBuffer();

/** JPEG APP1 EXIF holding only the orientation, as the stripper writes it. */
const minimalExifSegment = (orientation: number) =>
  segment(0xffe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), orientationOnly(orientation)]));

describe('metadata stripping', () => {
  for (const format of ['jpeg', 'png', 'webp'] as const) {
    it(`removes GPS, camera EXIF and XMP from a ${format} photo, keeping its pixels, orientation and ICC profile`, async () => {
      const original = await identifyingPhoto(format);
      const before = await sharp(original).metadata();
      assert.ok(before.exif && before.xmp && before.icc && before.orientation === 6, 'the generated photo carries the metadata');
      // (PNG compresses its XMP, so the latitude is not there as text.)
      assert.ok(original.includes(IDENTIFYING.camera) && (format === 'png' || original.includes(IDENTIFYING.xmpLatitude)));

      const { out, changed } = await strip(original, format);
      assert.ok(changed);
      for (const text of Object.values(IDENTIFYING)) assert.ok(!out.includes(text), `${text} is gone`);
      const meta = await sharp(out).metadata();
      assert.equal(meta.orientation, 6);
      assert.equal(meta.xmp, undefined);
      assert.equal(meta.iptc, undefined);
      assert.deepEqual(meta.icc, before.icc);
      // The only EXIF left is the orientation, with no GPS directory.
      const tiff = format === 'jpeg' ? meta.exif?.subarray('Exif\0\0'.length) : meta.exif;
      assert.deepEqual(tiff, orientationOnly(6));
      assert.deepEqual(await pixels(out), await pixels(original), 'the pixels are not re-encoded');
      assert.deepEqual([meta.width, meta.height, meta.format], [before.width, before.height, before.format]);
    });
  }

  it('drops JPEG EXIF, XMP, IPTC/Photoshop, comments, vendor blocks and trailing data, byte-exact otherwise', async () => {
    const base = await sharp(await photo(48, 32)).withIccProfile('p3').jpeg().toBuffer();
    const gpsExif = (await sharp(await identifyingPhoto('jpeg')).metadata()).exif;
    assert.ok(gpsExif);
    const loaded = Buffer.concat([withSegments(base, [
      segment(0xffe1, gpsExif),
      segment(0xffe1, Buffer.concat([Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1'), Buffer.from(xmpPacket)])),
      segment(0xffed, Buffer.concat([Buffer.from('Photoshop 3.0\x008BIM\x04\x04\0\0\0\0\0\x14\x1c\x02\x50\0\x0e', 'latin1'), Buffer.from(IDENTIFYING.camera)])),
      segment(0xffec, Buffer.from('Ducky\0\0\0\0', 'latin1')),
      segment(0xffe2, Buffer.from('MPF\0II*\0', 'latin1')),
      segment(0xfffe, Buffer.from('taken at home by Alice')),
    ]), Buffer.from('appended secondary image')]);

    const { out } = await strip(loaded, 'jpeg');
    assert.deepEqual(out, Buffer.concat([base.subarray(0, 2), minimalExifSegment(6), base.subarray(2)]));
    assert.deepEqual(await pixels(out), await pixels(base));
  });

  it('walks every scan of a progressive JPEG, dropping a comment between scans', async () => {
    const progressive = await sharp(await identifyingPhoto('jpeg')).keepMetadata().jpeg({ progressive: true }).toBuffer();
    const secondScan = progressive.indexOf(Buffer.from([0xff, 0xda]), progressive.indexOf(Buffer.from([0xff, 0xda])) + 2);
    assert.ok(secondScan > 0, 'more than one scan');
    const comment = segment(0xfffe, Buffer.from(IDENTIFYING.owner));
    const loaded = Buffer.concat([progressive.subarray(0, secondScan), comment, progressive.subarray(secondScan)]);
    const { out } = await strip(loaded, 'jpeg');
    assert.ok(!out.includes(IDENTIFYING.owner) && !out.includes(IDENTIFYING.camera));
    assert.deepEqual(await pixels(out), await pixels(progressive));
    assert.equal((await sharp(out).metadata()).isProgressive, true);
  });

  it('writes no EXIF back when the orientation is the normal one', async () => {
    const base = await photo(40, 30);
    const upright = await sharp(base).withExif({ IFD0: { Make: IDENTIFYING.camera } }).jpeg().toBuffer();
    const { out } = await strip(upright, 'jpeg');
    assert.equal((await sharp(out).metadata()).exif, undefined);
    assert.ok(!out.includes(IDENTIFYING.camera));
  });

  it('drops PNG text chunks, eXIf, tIME and trailing data, byte-exact otherwise', async () => {
    const png = await sharp(await photo(40, 30, 'png')).withIccProfile('p3').png().toBuffer();
    const loaded = Buffer.concat([withPngChunks(png, [
      pngChunk('tEXt', Buffer.from('Author\0Alice')),
      pngChunk('iTXt', Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\0\0\0\0'), Buffer.from(xmpPacket)])),
      pngChunk('zTXt', Buffer.from('Comment\0\0x')),
      pngChunk('tIME', Buffer.from([0x07, 0xe8, 1, 2, 3, 4, 5])),
      pngChunk('eXIf', Buffer.from('MM\0*\0\0\0\x08\0\0\0\0\0\0', 'latin1')),
    ]), Buffer.from('<script>alert(1)</script>')]);
    const { out } = await strip(loaded, 'png');
    assert.deepEqual(out, png);
  });

  it('drops GIF comments, XMP and other application extensions and trailing data, keeping the loop', async () => {
    const xmp = Buffer.concat([Buffer.from([0x21, 0xff, 0x0b]), Buffer.from('XMP DataXMP'), Buffer.from([5]), Buffer.from('<x:x>'), Buffer.from([0])]);
    const clean = gif({ width: 20, height: 10, frames: 3 });
    const commented = gif({ width: 20, height: 10, frames: 3, comment: 'taken at home by Alice', after: '<script>alert(1)</script>' });
    const at = commented.indexOf(Buffer.from([0x21, 0xfe]));
    const loaded = Buffer.concat([commented.subarray(0, at), xmp, commented.subarray(at)]);
    const { out } = await strip(loaded, 'gif');
    assert.deepEqual(out, clean);
    assert.equal((await sharp(out).metadata()).loop, 0);
  });

  it('updates the WebP container: RIFF size and VP8X flags match what is left', async () => {
    const original = await identifyingPhoto('webp');
    const { out } = await strip(original, 'webp');
    assert.equal(out.readUInt32LE(4), out.length - 8);
    const flags = out[20] ?? 0;
    assert.deepEqual([flags & 0x08, flags & 0x04, flags & 0x20], [0x08, 0, 0x20], 'EXIF flag set (orientation), XMP flag clear, ICC flag kept');
  });

  it('leaves files with nothing to remove untouched, and TIFF and AVIF as they are', async () => {
    for (const format of ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const) {
      const data = await photo(32, 24, format);
      const { out, changed } = await strip(data, format);
      assert.equal(changed, false, format);
      assert.deepEqual(out, data, format);
    }
  });

  it('strips JPEG and PNG the same however the upload is cut into chunks as it arrives', async () => {
    // Metadata before, between and after the scans, so a walker that loses its place keeps some.
    const progressive = await sharp(await identifyingPhoto('jpeg')).keepMetadata().jpeg({ progressive: true }).toBuffer();
    const secondScan = progressive.indexOf(Buffer.from([0xff, 0xda]), progressive.indexOf(Buffer.from([0xff, 0xda])) + 2);
    const jpeg = Buffer.concat([progressive.subarray(0, secondScan), segment(0xfffe, Buffer.from(IDENTIFYING.owner)),
      progressive.subarray(secondScan), Buffer.from(IDENTIFYING.owner)]);
    const png = Buffer.concat([await identifyingPhoto('png'), Buffer.from(IDENTIFYING.owner)]);
    for (const [format, original] of [['jpeg', jpeg], ['png', png]] as const) {
      const whole = await strip(original, format);
      assert.ok(!whole.out.includes(IDENTIFYING.owner) && !whole.out.includes(IDENTIFYING.camera));
      for (const chunk of [1, 2, 3, 7, 1000]) {
        assert.deepEqual((await stripUpload(original, format, chunk)).out, whole.out, `${format} in ${String(chunk)}-byte chunks`);
      }
    }
  });

  it('removes the metadata ahead of a cut, and keeps whatever it cannot walk', async () => {
    const original = await identifyingPhoto('jpeg');
    const cut = original.subarray(0, original.length - 200);
    const { out } = await strip(cut, 'jpeg');
    assert.ok(!out.includes(IDENTIFYING.camera));
    assert.deepEqual(out.subarray(out.length - 100), cut.subarray(cut.length - 100), 'the cut scan is kept as it came');
    const junk = Buffer.from('not an image at all, whatever the probe said');
    for (const format of ['jpeg', 'png', 'webp', 'gif']) assert.deepEqual((await strip(junk, format)).out, junk, format);
  });
});
