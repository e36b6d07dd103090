// What every scenario gets: the mode (quick or full), a scratch directory, the generated images
// and the way to report a result.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { imageClasses, template, uniqueCopy, type ImageClass } from './images.js';
import { startImghost, type Imghost } from './imghost-process.js';

/** A generated image and an endless supply of distinct copies of it. */
export class ImageSet {
  private copies = 0;
  constructor(readonly cls: ImageClass, readonly template: Buffer) {}

  next(): Buffer {
    return uniqueCopy(this.template, ++this.copies);
  }

  /** Writes `count` distinct copies into `dir` and returns their paths. */
  async files(dir: string, count: number): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    return Promise.all(Array.from({ length: count }, async (_, i) => {
      const path = join(dir, `${this.cls.name}-${String(i)}.${this.cls.format}`);
      await writeFile(path, this.next());
      return path;
    }));
  }
}

/** Small photos: many thumbnails to serve without spending the run on making them. */
export const smallPhoto: ImageClass = { name: 'jpeg-640x400', width: 640, height: 400, format: 'jpeg', mime: 'image/jpeg' };

export class Bench {
  readonly cores = availableParallelism();
  private readonly sets = new Map<string, Promise<ImageSet>>();
  private dirs = 0;

  constructor(readonly quick: boolean, readonly workDir: string, private readonly print: (line: string) => void) {}

  /** Repetitions of each measurement; results are their median. */
  get runs(): number { return this.quick ? 1 : 3; }

  /** Quick mode's value, or the full run's. */
  pick<T>(quick: T, full: T): T { return this.quick ? quick : full; }

  images(cls: ImageClass): Promise<ImageSet> {
    let set = this.sets.get(cls.name);
    if (!set) {
      set = template(cls).then((buffer) => new ImageSet(cls, buffer));
      this.sets.set(cls.name, set);
    }
    return set;
  }

  imageClass(name: string): ImageClass {
    const cls = imageClasses.find((c) => c.name === name);
    if (!cls) throw new Error(`no image class ${name}`);
    return cls;
  }

  /** A fresh directory under the scratch directory. */
  dir(prefix: string): Promise<string> {
    return mkdtemp(join(this.workDir, `${prefix}-${String(++this.dirs)}-`));
  }

  /** Runs `use` against an imghost on a fresh data directory (or `dataDir`), then stops it. */
  async withImghost<T>(args: readonly string[], use: (server: Imghost, dataDir: string) => Promise<T>, dataDir?: string): Promise<T> {
    const data = dataDir ?? await this.dir('data');
    const server = await startImghost(data, args);
    try {
      return await use(server, data);
    } finally {
      await server.stop();
    }
  }

  emit(result: Record<string, unknown>): void {
    this.print(JSON.stringify(result));
  }
}
