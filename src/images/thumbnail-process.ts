// The child process of thumbnailer.ts: makes the thumbnails it is asked for until its parent
// goes away (the IPC channel closes when the server exits, even by SIGKILL).
import { ImageTooComplex, NotAnImage } from '../errors.js';
import { makeRendition } from './rendition.js';
import type { ThumbnailAnswer, ThumbnailRequest } from './thumbnailer.js';

const reply = (answer: ThumbnailAnswer): void => { process.send?.(answer); };

function refusal(id: number, err: unknown): ThumbnailAnswer {
  if (err instanceof NotAnImage) return { id, refused: 'notAnImage' };
  if (err instanceof ImageTooComplex) return { id, refused: 'tooComplex' };
  return { id, error: String(err) };
}

process.on('message', ({ id, path, spec, limits }: ThumbnailRequest) => {
  makeRendition(path, spec, limits).then(
    (thumbnail) => { reply({ id, thumbnail }); },
    (err: unknown) => { reply(refusal(id, err)); },
  );
});
process.on('disconnect', () => { process.exit(0); });
