import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent } from 'node:http';
import { rootCertificates } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { Agent as UndiciAgent, type Dispatcher, ProxyAgent } from 'undici';
import { AgentError } from './errors.js';

/**
 * How the agent reaches the gateway and the control plane (TLS trust and proxies).
 *
 * @example
 * ```ts
 * createNetwork({ ca: pem, proxyForUrl: (url) => (url.startsWith('wss://') ? 'http://proxy:3128' : undefined) });
 * ```
 */
export interface NetworkOptions {
  /** PEM bundle of a private CA trusted for `wss://` and `https://` in addition to the system roots. */
  readonly ca?: string | Buffer | undefined;
  /**
   * Picks the proxy for a target URL; `undefined`/empty means direct. Defaults to the standard
   * `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` environment variables (via proxy-from-env).
   */
  readonly proxyForUrl?: ((url: string) => string | undefined) | undefined;
}

/**
 * Reads `VESPID_AGENT_TLS_CA_FILE`. A set but unreadable file is a startup error (`AGENT_CONFIG_INVALID`),
 * never a silent fall-back to the system roots.
 *
 * @example
 * ```ts
 * const ca = readCaFile(process.env.VESPID_AGENT_TLS_CA_FILE);
 * ```
 */
export function readCaFile(path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new AgentError(
      'AGENT_CONFIG_INVALID',
      `VESPID_AGENT_TLS_CA_FILE ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: err,
      },
    );
  }
  if (!pem.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) {
    throw new AgentError('AGENT_CONFIG_INVALID', `VESPID_AGENT_TLS_CA_FILE ${path} contains no PEM certificate`);
  }
  return pem;
}

function defaultProxyForUrl(url: string): string | undefined {
  // proxy-from-env reads `<scheme>_proxy`, i.e. WSS_PROXY for wss://; users set HTTPS_PROXY/HTTP_PROXY,
  // so the WebSocket schemes are mapped first. NO_PROXY is honoured by proxy-from-env.
  return getProxyForUrl(url.replace(/^ws(s?):/i, 'http$1:')) || undefined;
}

/** Node's bundled roots plus the private CA: a TLS `ca` option replaces the roots, so we append. */
function caBundle(ca: string | Buffer | undefined): string[] | undefined {
  if (!ca) return undefined;
  return [...rootCertificates, ca.toString()];
}

/**
 * Resolved network settings shared by the WebSocket connection and the pairing call.
 *
 * @example
 * ```ts
 * const net = createNetwork({ ca: readCaFile(process.env.VESPID_AGENT_TLS_CA_FILE) });
 * new WebSocket(url, { ...net.wsOptions(url) });
 * ```
 */
export interface Network {
  /** Options to spread into `new WebSocket(url, …)`: `ca` and, behind a proxy, a CONNECT-tunnel agent. */
  wsOptions(url: string): { ca?: string[]; agent?: HttpAgent };
  /** undici dispatcher for `request(url, { dispatcher })`: direct or CONNECT tunnel, CA honoured through it. */
  dispatcher(url: string): Dispatcher;
  /** Releases pooled connections. */
  close(): Promise<void>;
}

/**
 * Builds a {@link Network} from {@link NetworkOptions}.
 *
 * @example
 * ```ts
 * const net = createNetwork({ ca: readCaFile(process.env.VESPID_AGENT_TLS_CA_FILE) });
 * await request(url, { dispatcher: net.dispatcher(url) });
 * ```
 */
export function createNetwork(options: NetworkOptions = {}): Network {
  const ca = caBundle(options.ca);
  const proxyFor = options.proxyForUrl ?? defaultProxyForUrl;
  const dispatchers = new Map<string, Dispatcher>();
  const tls = ca ? { ca } : {};
  return {
    wsOptions(url) {
      const proxy = proxyFor(url);
      // The tunnel agent passes the request's TLS options (our `ca`) to tls.connect over the tunnel.
      return proxy ? { ...tls, agent: new HttpsProxyAgent(proxy, tls) as unknown as HttpAgent } : { ...tls };
    },
    dispatcher(url) {
      const proxy = proxyFor(url) ?? '';
      let d = dispatchers.get(proxy);
      if (!d) {
        d = proxy ? new ProxyAgent({ uri: proxy, requestTls: tls, proxyTls: tls }) : new UndiciAgent({ connect: tls });
        dispatchers.set(proxy, d);
      }
      return d;
    },
    async close() {
      const all = [...dispatchers.values()];
      dispatchers.clear();
      await Promise.allSettled(all.map((d) => d.close()));
    },
  };
}
