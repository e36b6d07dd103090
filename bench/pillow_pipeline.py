"""The original application's thumbnail pipeline, as a reference for `npm run bench`: Pillow's
thumbnail((128, 128)) to PNG in a thread pool of CPU-count threads, on bodies held in memory
as the original held its uploads. Prints {"per_second": N, "files": N} as one JSON line."""
import io
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from PIL import Image


def thumbnail(body: bytes) -> int:
    image = Image.open(io.BytesIO(body))
    image.thumbnail((128, 128))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.tell()


def main() -> None:
    bodies = []
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            bodies.append(f.read())
    thumbnail(bodies[0])  # warm-up: codecs loaded, pages touched
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        began = time.perf_counter()
        sizes = list(pool.map(thumbnail, bodies))
        seconds = time.perf_counter() - began
    if not all(size > 0 for size in sizes):
        raise SystemExit("empty thumbnail")
    print(json.dumps({"per_second": len(bodies) / seconds, "files": len(bodies)}))


if __name__ == "__main__":
    main()
