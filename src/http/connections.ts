// Caps on open connections, so idle or half-sent ones cannot use up the process's file
// descriptors: a cap on the whole (Node's server.maxConnections, which closes a connection past it
// as soon as it is accepted) and a cap per client address, counted here. The address is the TCP
// peer: X-Forwarded-For is a header, read only once a request arrives, too late to refuse a
// connection. So the per-address cap is not applied to --trusted_proxies, whose connections carry
// many clients; limiting those is the proxy's job.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { BlockList, isIP, isIPv6, type Socket } from 'node:net';

/** File descriptors a connection may not use: database, spooled uploads, blobs, thumbnail pipes. */
const FD_RESERVE_SHARE = 0.25;
/** Past this, the memory of half-sent connections (8 KB each measured, 23 KB with 16 KB of headers) matters more than descriptors. */
const AUTO_MAX = 10_000;

/** The soft limit on open files of this process, from /proc (Linux); null where it cannot be read. */
export function openFileLimit(): number | null {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line?.[1] === undefined ? null : line[1] === 'unlimited' ? Infinity : Number(line[1]);
  } catch {
    return null;
  }
}

/** --max_connections, or when 0 three quarters of the open-file limit (1024 assumed where unknown), at most 10000. */
export function connectionCap(configured: number, fdLimit = openFileLimit()): number {
  if (configured > 0) return configured;
  return Math.min(AUTO_MAX, Math.max(64, Math.floor((fdLimit ?? 1024) * (1 - FD_RESERVE_SHARE))));
}

/** An IPv4-mapped IPv6 address (a dual-stack listener's view of an IPv4 peer) as plain IPv4. */
const unmapped = (address: string): string => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;

/** The key a peer is counted under: IPv4 as is, IPv6 per /64 (one host usually holds a whole /64). */
export function peerKey(peer: string): string {
  const address = unmapped(peer);
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16)).join(':')}::/64`;
}

/** The --trusted_proxies entries (IPs and CIDRs) as a BlockList, to look peers up in. */
export function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    if (isIP(address) === 0) continue;
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** A test of whether a socket's peer address is one of the --trusted_proxies entries. */
export function trustedPeer(entries: readonly string[]): (peer: string) => boolean {
  const proxies = proxyList(entries);
  return (peer) => {
    const address = unmapped(peer);
    return proxies.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  };
}

export interface ConnectionLimits {
  /** Connections open at once. */
  total: number;
  /** Connections open at once from one address (0: no cap). */
  perAddress: number;
  trustedProxies: readonly string[];
}

/**
 * Applies the caps to `server`. A connection over the per-address cap is destroyed at once,
 * before the HTTP parser sees a byte: the client sees its connection closed (or reset), with no
 * answer, as for the total cap. Returns the live count per address, for tests and logs.
 */
export function limitConnections(server: Server, { total, perAddress, trustedProxies }: ConnectionLimits): Map<string, number> {
  server.maxConnections = total;
  const open = new Map<string, number>();
  if (perAddress === 0) return open;
  const isProxy = trustedPeer(trustedProxies);
  // Prepended, so a refused connection is gone before the HTTP server sets up a parser for it.
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined || isProxy(address)) return;
    const key = peerKey(address);
    const count = (open.get(key) ?? 0) + 1;
    if (count > perAddress) {
      socket.destroy();
      return;
    }
    open.set(key, count);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
    });
  });
  return open;
}
