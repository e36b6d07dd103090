// Photos that give away who took them and where, as a phone writes them: GPS and camera EXIF, an
// XMP packet with the location, a wide-gamut ICC profile and a sideways orientation.
import sharp from 'sharp';
import { photo } from './images.js';

/** Strings that must not survive stripping, each written into the photo's metadata. */
export const IDENTIFYING = {
  camera: 'PhoneCo Snap 9',
  owner: 'Alice Example',
  xmpLatitude: '48,51.494N',
} as const;

export const xmpPacket = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
  + `<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="${IDENTIFYING.xmpLatitude}"/></rdf:RDF></x:xmpmeta>`;

/** The GPS position of the Eiffel Tower, as EXIF rationals. */
const GPS = { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2964/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4003/100' };

export async function identifyingPhoto(format: 'jpeg' | 'png' | 'webp', width = 64, height = 48): Promise<Buffer> {
  return sharp(await photo(width, height, 'png'))
    .withExif({ IFD0: { Model: IDENTIFYING.camera, Artist: IDENTIFYING.owner }, IFD3: GPS })
    .withXmp(xmpPacket)
    .withIccProfile('p3')
    .withMetadata({ orientation: 6 })
    .toFormat(format)
    .toBuffer();
}

/** Whether the EXIF block sharp reports holds a GPS directory (IFD pointer tag 0x8825). */
export function hasGps(exif: Buffer | undefined): boolean {
  if (!exif) return false;
  return exif.includes(Buffer.from([0x88, 0x25])) || exif.includes(Buffer.from([0x25, 0x88]));
}
