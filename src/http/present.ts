// How an image looks to clients: the JSON of the API, also handed to the page templates.
import type { ImageRecord, NewImage } from '../repo/index.js';

export interface ImageJson {
  id: string;
  url: string;
  thumb_url: string;
  page_url: string;
  name: string | null;
  format: string;
  mime: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  created_at: string;
  thumb: { width: number; height: number; bytes: number; mime: string };
}

export function imageJson(image: NewImage | ImageRecord): ImageJson {
  return {
    id: image.id,
    url: `/imgs/${image.id}/orig`,
    thumb_url: `/imgs/${image.id}/thumb`,
    page_url: `/i/${image.id}`,
    name: image.name,
    format: image.format,
    mime: image.orig.mime,
    width: image.width,
    height: image.height,
    bytes: image.orig.bytes,
    sha256: image.orig.hash,
    created_at: image.createdAt.toISOString(),
    thumb: { width: image.thumb.width, height: image.thumb.height, bytes: image.thumb.bytes, mime: image.thumb.mime },
  };
}

/** An upload's answer: the image, and the delete token its uploader alone receives. */
export type UploadedJson = ImageJson & { delete_token: string };

export const uploadedJson = (image: NewImage, deleteToken: string): UploadedJson => ({ ...imageJson(image), delete_token: deleteToken });
