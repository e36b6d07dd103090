// What the server lists: every page of GET /api/images, followed to the end.
import assert from 'node:assert/strict';

/** The ids of every image `GET /api/images` lists, all pages. */
export async function listedIds(url: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let cursor: string | null = ''; cursor !== null;) {
    const res: Response = await fetch(`${url}/api/images?limit=100${cursor === '' ? '' : `&before=${cursor}`}`);
    assert.equal(res.status, 200);
    const page = await res.json() as { images: { id: string }[]; next_cursor: string | null };
    for (const image of page.images) ids.add(image.id);
    cursor = page.next_cursor;
  }
  return ids;
}
