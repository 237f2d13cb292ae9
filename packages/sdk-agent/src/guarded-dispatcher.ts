import { type LookupAddress, type LookupAllOptions, type LookupOneOptions, lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { type DestinationPolicy, destinationNotAllowed } from './destination-policy.js';

/**
 * A resolver answering every address of a name (what `dns.lookup(name, { all: true })` does).
 *
 * @example
 * ```ts
 * const fixed: LookupAll = (_name, cb) => cb(null, [{ address: '203.0.113.7', family: 4 }]);
 * ```
 */
export type LookupAll = (hostname: string, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * Options of {@link guardedDispatcher}.
 *
 * @example
 * ```ts
 * guardedDispatcher({ policy, connect: { ca: pem } });
 * ```
 */
export interface GuardedDispatcherOptions {
  /** What may be connected to. */
  policy: DestinationPolicy;
  /** Extra socket/TLS options for every connection (e.g. `ca`). */
  connect?: buildConnector.BuildOptions | undefined;
  /** Name resolution. @default `dns.lookup` with `all: true` */
  resolve?: LookupAll | undefined;
}

const systemResolve: LookupAll = (hostname, callback) => dnsLookup(hostname, { all: true, verbatim: true }, callback);

/**
 * An undici dispatcher whose every connection is checked against a {@link DestinationPolicy} at the
 * moment it is made. IP literals are checked before the socket exists; names go through a custom
 * `lookup` that resolves once, refuses if any answer is not allowed, and hands exactly the checked
 * answers to the socket — so there is no gap for DNS rebinding between check and connect. Redirects
 * followed by a redirect interceptor, keep-alive reconnects and retries open new connections through
 * the same check. A refusal (`DESTINATION_NOT_ALLOWED`) never opens a socket, so it is the same for an
 * open and a closed port.
 *
 * @example
 * ```ts
 * const dispatcher = guardedDispatcher({ policy: createDestinationPolicy({ allow: ['public'] }) });
 * await request('http://169.254.169.254/latest/meta-data', { dispatcher }); // rejects: DESTINATION_NOT_ALLOWED
 * ```
 */
export function guardedDispatcher(options: GuardedDispatcherOptions): Dispatcher {
  const { policy } = options;
  const resolve = options.resolve ?? systemResolve;

  function lookup(
    hostname: string,
    opts: LookupOneOptions | LookupAllOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void {
    resolve(hostname, (err, answers) => {
      if (err) return callback(err, '');
      const family = (opts as { family?: number | string }).family;
      const wanted = family === 4 || family === 'IPv4' ? 4 : family === 6 || family === 'IPv6' ? 6 : 0;
      const usable = wanted ? answers.filter((a) => a.family === wanted) : answers;
      // Any refused answer refuses the name: a record set mixing public and internal addresses is
      // exactly what a rebinding attack serves.
      if (answers.some((a) => !policy.check(a.address, hostname).allowed)) return callback(destinationNotAllowed(hostname), '');
      if (usable.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      if ((opts as LookupAllOptions).all) return callback(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  }

  const base = buildConnector({ ...options.connect, lookup } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (opts, callback) => {
    // net.connect skips `lookup` for IP literals: check them here, before any socket exists.
    if (isIP(opts.hostname) && !policy.check(opts.hostname, opts.hostname).allowed) {
      const host = isIP(opts.hostname) === 6 ? `[${opts.hostname}]` : opts.hostname;
      queueMicrotask(() => callback(destinationNotAllowed(host), null));
      return;
    }
    base(opts, callback);
  };
  return new Agent({ connect });
}
