// The child process of thumbnailer.ts: makes the thumbnails it is asked for until its parent
// goes away (the IPC channel closes when the server exits, even by SIGKILL).
import { NotAnImage } from '../errors.js';
import { makeThumbnail } from './thumbnail.js';
import type { ThumbnailAnswer, ThumbnailRequest } from './thumbnailer.js';

const reply = (answer: ThumbnailAnswer): void => { process.send?.(answer); };

process.on('message', ({ id, path, spec, maxPixels }: ThumbnailRequest) => {
  makeThumbnail(path, spec, maxPixels).then(
    (thumbnail) => { reply({ id, thumbnail }); },
    (err: unknown) => { reply(err instanceof NotAnImage ? { id, notAnImage: true } : { id, error: String(err) }); },
  );
});
process.on('disconnect', () => { process.exit(0); });
