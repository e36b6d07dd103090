"""The original application's upload path, end to end, as a reference for `npm run bench`: the
Tornado handler of "Modern Tornado Part 2" (multipart body parsed into memory, the thumbnail made
in a ThreadPoolExecutor of CPU-count threads, original and thumbnail stored in parallel, a record
linking them). GridFS on MongoDB, which Debian does not ship, is replaced by files written from
the default executor (as Motor runs its driver's calls in threads), without fsync, and the record
by an in-memory list: both cheaper than the original's, so the reference is, if anything, fast.
It answers in imghost's API shape, so one client drives both.

python3 original_app.py PORT DATA_DIR; GET / answers once it listens."""
import asyncio
import os
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

from tornado import web

from pillow_pipeline import make_thumbnail

IMAGES = []


def write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


class UploadHandler(web.RequestHandler):
    executor = ThreadPoolExecutor(max_workers=os.cpu_count())

    def get(self) -> None:
        self.write({"images": len(IMAGES)})

    async def post(self) -> None:
        file = self.request.files["file"][0]
        loop = asyncio.get_running_loop()
        try:
            thumbnail = await loop.run_in_executor(self.executor, make_thumbnail, file.body)
        except OSError:
            raise web.HTTPError(400, "Cannot identify image file")
        orig_id, thumb_id = await asyncio.gather(self.store(file.body), self.store(thumbnail))
        IMAGES.append({"orig": orig_id, "thumb": thumb_id})
        self.set_status(201)
        self.write({"id": orig_id, "thumb": {"bytes": len(thumbnail)}})

    async def store(self, data: bytes) -> str:
        blob_id = uuid.uuid4().hex
        await asyncio.get_running_loop().run_in_executor(None, write_file, os.path.join(self.settings["data_dir"], blob_id), data)
        return blob_id


async def main() -> None:
    port, data_dir = int(sys.argv[1]), sys.argv[2]
    app = web.Application([(r"/", UploadHandler), (r"/api/images", UploadHandler)], data_dir=data_dir)
    limit = 256 * 1024 * 1024
    app.listen(port, address="127.0.0.1", max_body_size=limit, max_buffer_size=limit)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
