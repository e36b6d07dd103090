"""The original application's thumbnail pipeline, as a reference for `npm run bench`: Pillow's
thumbnail((128, 128), ANTIALIAS) to PNG in a thread pool of CPU-count threads, on bodies held in
memory as the original held its uploads. Prints {"per_second": N, "files": N} as one JSON line."""
import io
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from PIL import Image


def make_thumbnail(body: bytes) -> bytes:
    """The original's make_thumbnail (ANTIALIAS is LANCZOS, the name Pillow 10 keeps)."""
    image = Image.open(io.BytesIO(body))
    image.thumbnail((128, 128), Image.LANCZOS)
    with io.BytesIO() as output:
        image.save(output, "PNG")
        return output.getvalue()


def main() -> None:
    bodies = []
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            bodies.append(f.read())
    make_thumbnail(bodies[0])  # warm-up: codecs loaded, pages touched
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        began = time.perf_counter()
        thumbnails = list(pool.map(make_thumbnail, bodies))
        seconds = time.perf_counter() - began
    if not all(thumbnails):
        raise SystemExit("empty thumbnail")
    print(json.dumps({"per_second": len(bodies) / seconds, "files": len(bodies)}))


if __name__ == "__main__":
    main()
