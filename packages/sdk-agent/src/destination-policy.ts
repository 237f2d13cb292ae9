import ipaddr from 'ipaddr.js';
import { AgentError } from './errors.js';

/**
 * Which addresses outgoing connector requests may connect to. Decisions are made on the address a
 * socket is about to connect to (after name resolution), never on the URL text, so every notation of
 * an address (`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`, a DNS name that resolves to it, …) gets
 * the same answer. Enforced by {@link guardedDispatcher}.
 *
 * @example
 * ```ts
 * const policy = createDestinationPolicy({ allow: ['public', '10.20.0.0/16', 'billing.internal'] });
 * policy.check('127.0.0.1', 'localhost'); // { allowed: false, range: 'loopback' }
 * ```
 */
export interface DestinationPolicy {
  /** Whether a connection to `address` (an IP literal) for the name `hostname` is allowed, and the range it is in. */
  check(address: string, hostname?: string): { allowed: boolean; range: string };
  /** The entries the policy was built from (for logs and docs). */
  readonly entries: readonly string[];
}

/**
 * Options of {@link createDestinationPolicy}.
 *
 * @example
 * ```ts
 * createDestinationPolicy({ allow: ['public', '127.0.0.1/32'] });
 * ```
 */
export interface DestinationPolicyOptions {
  /**
   * Allowed destinations. Each entry is one of:
   * - `public` — every globally routable unicast address (IPv4 outside the special-purpose ranges,
   *   IPv6 in 2000::/3 outside them); not loopback, link-local (cloud metadata), private, CGNAT,
   *   unique-local, unspecified, multicast, broadcast, reserved, documentation, NAT64, 6to4 or Teredo;
   * - an IP address or a CIDR (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`);
   * - a host name (`billing.internal`) or a suffix wildcard (`*.corp.example`): requests to that name
   *   may connect to whatever it resolves to.
   *
   * An empty list allows nothing.
   */
  allow: readonly string[];
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

const PUBLIC = 'public';
// Global unicast space; excludes the deprecated IPv4-compatible ::/96, which ipaddr.js calls "unicast".
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as Cidr;
const HOSTNAME = /^(\*\.)?(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** The range name of an address as ipaddr.js sees it, IPv4-mapped IPv6 unwrapped to IPv4. */
function classify(address: string): { addr: ipaddr.IPv4 | ipaddr.IPv6; range: string } | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return undefined;
  const addr = ipaddr.process(bare);
  let range: string = addr.range();
  if (range === 'unicast' && addr.kind() === 'ipv6' && !addr.match(GLOBAL_UNICAST_V6)) range = 'reserved';
  return { addr, range };
}

function inCidr(addr: ipaddr.IPv4 | ipaddr.IPv6, [net, bits]: Cidr): boolean {
  if (addr.kind() === net.kind()) return addr.match(net, bits);
  // A v4 address against a v6 entry (e.g. ::ffff:0:0/96): compare in the mapped form.
  if (addr.kind() === 'ipv4' && net.kind() === 'ipv6') return (addr as ipaddr.IPv4).toIPv4MappedAddress().match(net, bits);
  return false;
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/**
 * Builds a {@link DestinationPolicy}. Invalid entries are a configuration error
 * (`AGENT_CONFIG_INVALID`) naming the entry, so a typo never silently opens or closes a range.
 *
 * @example
 * ```ts
 * // The worker's default: the public internet only.
 * const policy = createDestinationPolicy({ allow: ['public'] });
 * ```
 */
export function createDestinationPolicy(options: DestinationPolicyOptions): DestinationPolicy {
  let publicAllowed = false;
  const cidrs: Cidr[] = [];
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of options.allow) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry.toLowerCase() === PUBLIC) {
      publicAllowed = true;
      continue;
    }
    const bare = entry.replace(/^\[|\]$/g, '');
    if (bare.includes('/')) {
      try {
        const [net, bits] = ipaddr.parseCIDR(bare) as Cidr;
        // Unwrap an IPv4-mapped network so `::ffff:10.0.0.0/104` and `10.0.0.0/8` mean the same.
        cidrs.push(
          net.kind() === 'ipv6' && (net as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96
            ? [(net as ipaddr.IPv6).toIPv4Address(), bits - 96]
            : [net, bits],
        );
      } catch {
        throw new AgentError('AGENT_CONFIG_INVALID', `destination allowlist entry "${entry}" is not a valid CIDR`);
      }
      continue;
    }
    if (ipaddr.isValid(bare)) {
      const addr = ipaddr.process(bare);
      cidrs.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
      continue;
    }
    const host = normalizeHost(entry);
    if (!HOSTNAME.test(host)) {
      throw new AgentError(
        'AGENT_CONFIG_INVALID',
        `destination allowlist entry "${entry}" is neither "public", an IP, a CIDR nor a host name`,
      );
    }
    if (host.startsWith('*.')) suffixes.push(host.slice(1));
    else hosts.add(host);
  }
  const entries = Object.freeze(options.allow.map((e) => e.trim()).filter(Boolean));
  return {
    entries,
    check(address, hostname) {
      const c = classify(address);
      if (!c) return { allowed: false, range: 'invalid' };
      if (publicAllowed && c.range === 'unicast') return { allowed: true, range: c.range };
      if (cidrs.some((cidr) => inCidr(c.addr, cidr))) return { allowed: true, range: c.range };
      if (hostname !== undefined) {
        const h = normalizeHost(hostname.replace(/^\[|\]$/g, ''));
        if (hosts.has(h) || suffixes.some((s) => h.endsWith(s))) return { allowed: true, range: c.range };
      }
      return { allowed: false, range: c.range };
    },
  };
}

/**
 * Parses a comma-separated allowlist variable (`public,10.0.0.0/8,billing.internal`) into entries.
 * Entries are validated by {@link createDestinationPolicy}.
 *
 * @example
 * ```ts
 * parseAllowlist(process.env.WORKFLOW_HTTP_ALLOWLIST); // ['127.0.0.1/32', 'billing.internal']
 * ```
 */
export function parseAllowlist(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
}

/**
 * The error every refused destination gets: the same code and message whatever the port and whether
 * anything listens there (no connection is attempted), naming the host as written in the URL only.
 *
 * @example
 * ```ts
 * throw destinationNotAllowed('169.254.169.254');
 * ```
 */
export function destinationNotAllowed(host: string): AgentError {
  return new AgentError(
    'DESTINATION_NOT_ALLOWED',
    `destination ${host} is not allowed: it resolves to a special-purpose address or one outside this host's destination allowlist`,
  );
}
