import { hostname } from 'node:os';
import { AGENT_FEATURES, type Hello, type HostInfo, PROTOCOL_VERSION } from '@vespid/protocol';
import type { ResolvedAgentOptions } from './agent-options.js';
import type { Executor } from './executor.js';

/**
 * Where this process runs, as reported in `hello.host` (shown in the fleet view; never trusted for
 * routing). Values are cut to the protocol's limits so an odd host name cannot break the hello.
 *
 * @example
 * ```ts
 * logger.info(describeHost(), 'starting'); // { os: 'linux', arch: 'x64', hostname: 'edge-1', nodeVersion: '20.20.0' }
 * ```
 */
export function describeHost(): HostInfo {
  return {
    os: process.platform.slice(0, 32),
    arch: process.arch.slice(0, 32),
    hostname: (hostname() || 'unknown').slice(0, 255),
    nodeVersion: process.versions.node.slice(0, 32),
  };
}

/**
 * The `hello` frame: kinds and connectors come from the registered executors (never claimed without
 * one), tags are hints (routing uses the control plane's), `maxInFlight` is what the runtime enforces,
 * `host` says where the agent runs, `features` lists optional frames it handles (`rotate_token` only
 * when it can persist a new token).
 */
export function buildHello(
  o: Pick<ResolvedAgentOptions, 'name' | 'tags' | 'maxInFlight' | 'agentVersion'> &
    Partial<Pick<ResolvedAgentOptions, 'persistToken'>> & { tracing?: unknown },
  executors: readonly Executor[],
  host: HostInfo = describeHost(),
): Hello {
  const connectors = [...new Set(executors.flatMap((e) => e.connectors ?? []))];
  const capabilities: Hello['capabilities'] = { kinds: executors.map((e) => e.kind), maxInFlight: o.maxInFlight };
  if (connectors.length) capabilities.connectors = connectors;
  if (o.tags.length) capabilities.tags = o.tags;
  const features: string[] = [];
  if (o.persistToken) features.push(AGENT_FEATURES.rotateToken);
  // Announced only when this agent traces: it is what makes the gateway send `execute.trace`.
  if (o.tracing) features.push(AGENT_FEATURES.trace);
  if (features.length) capabilities.features = features;
  return { type: 'hello', protocol: PROTOCOL_VERSION, agentVersion: o.agentVersion, name: o.name, capabilities, host };
}
