// The site's own origin (`https://img.example.com`), for the absolute links the server writes and
// for telling a same-site request from a cross-site one. It comes from --public_url when set;
// otherwise from the request, whose Host (or, from a trusted proxy, X-Forwarded-Host and -Proto;
// Fastify's trustProxy believes those from --trusted_proxies only) must be a plain host and port.
import type { FastifyRequest } from 'fastify';
import { isIPv4, isIPv6 } from 'node:net';
import { BadHost, ConfigError } from '../errors.js';

/** --public_url checked and normalised (no trailing slash), or null when unset. Throws ConfigError if invalid. */
export function publicBase(value: string): string | null {
  if (value === '') return null;
  const fail = (why: string): never => { throw new ConfigError(`option '--public_url': '${value}' ${why}`); };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('must be an http or https URL');
  if (url.username !== '' || url.password !== '') fail('must not carry a user name or password');
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(value)) fail('must have no query or fragment');
  // The URL parser lets through hosts such as `a)b.com`, which would break the links' syntax.
  if (!isValidHost(url.host)) fail('must name a host by a DNS name or an IP address, with an optional port');
  return url.href.replace(/\/+$/, '');
}

// A DNS name (letters, digits, hyphens, dot-separated labels of at most 63, an optional final dot;
// underscores too, which container networks put in service names), with an optional port.
// Anything else (spaces, brackets outside an IPv6 literal, slashes, `@`, quotes, Markdown or
// BBCode syntax) is no host of ours.
const DNS_NAME = /^(?=.{1,253}\.?$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const HOST_AND_PORT = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d{1,5}))?$/;

/** True for `name`, `name:port`, `1.2.3.4:port` or `[v6]:port`, and nothing else. */
export function isValidHost(host: string): boolean {
  const match = HOST_AND_PORT.exec(host);
  if (!match) return false;
  const [, name = '', port] = match;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
  if (name.startsWith('[')) return isIPv6(name.slice(1, -1));
  return isIPv4(name) || (DNS_NAME.test(name) && !/^[\d.]+$/.test(name));
}

/** The origin a client reached this site at: --public_url's, or the validated request's. Throws BadHost. */
export function siteOrigin(request: FastifyRequest, base: string | null): string {
  if (base !== null) return new URL(base).origin;
  const { host } = request;
  // Typed as http or https, but from a trusted proxy it is whatever X-Forwarded-Proto says.
  const protocol: string = request.protocol;
  if (host === '') throw new BadHost('the request has no Host header; send one (HTTP/1.1 requires it)');
  if (!isValidHost(host)) throw new BadHost('the Host header is not a host name or address with an optional port');
  if (protocol !== 'http' && protocol !== 'https') throw new BadHost('X-Forwarded-Proto is neither http nor https');
  return `${protocol}://${host.toLowerCase()}`;
}

/** Where the site's absolute links start: --public_url with its path, or the request's origin. */
export const linkBase = (request: FastifyRequest, base: string | null): string => base ?? siteOrigin(request, null);
