// Keeps other sites' pages from uploading through the JSON API. A page anywhere on the web can
// make a visitor's browser post a multipart form to any address it can reach, a LAN-only imghost
// included; the API takes no cookies, so no XSRF token stands in the way. Browsers say where a
// request comes from (Sec-Fetch-Site; Origin on older ones), and cannot add an Authorization
// header to a cross-site post without a CORS preflight, which imghost never grants. So a browser
// post from another site is refused unless it carries a Bearer token; programs such as curl send
// neither header and are not affected.
import type { FastifyRequest } from 'fastify';
import { CrossSiteUpload } from '../errors.js';
import { siteOrigin } from './origin.js';

const FOREIGN_SITES = new Set(['cross-site', 'same-site']);

/** An onRequest hook refusing browser uploads from another site (403) unless they carry a Bearer token. */
export function sameSiteOnly(publicBase: string | null) {
  return (request: FastifyRequest): Promise<void> => Promise.resolve().then(() => {
    if (/^Bearer\s/i.test(request.headers.authorization ?? '')) return;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && FOREIGN_SITES.has(site)) throw new CrossSiteUpload();
    // An Origin (browsers send one with every POST they make from a page) must be ours too: for
    // browsers without Fetch Metadata, and against DNS rebinding, where a foreign page's own name
    // leads to this server and its posts look same-origin to the browser: with --public_url the
    // site's origin is known, and that name is not it.
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== siteOrigin(request, publicBase)) throw new CrossSiteUpload();
  });
}
