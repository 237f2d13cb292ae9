import { type Hello, PROTOCOL_VERSION } from '@vespid/protocol';
import type { ResolvedAgentOptions } from './agent-options.js';
import type { Executor } from './executor.js';

/**
 * The `hello` frame: kinds and connectors come from the registered executors (never claimed without
 * one), tags are hints (routing uses the control plane's), `maxInFlight` is what the runtime enforces.
 */
export function buildHello(
  o: Pick<ResolvedAgentOptions, 'name' | 'tags' | 'maxInFlight' | 'agentVersion'>,
  executors: readonly Executor[],
): Hello {
  const connectors = [...new Set(executors.flatMap((e) => e.connectors ?? []))];
  const capabilities: Hello['capabilities'] = { kinds: executors.map((e) => e.kind), maxInFlight: o.maxInFlight };
  if (connectors.length) capabilities.connectors = connectors;
  if (o.tags.length) capabilities.tags = o.tags;
  return { type: 'hello', protocol: PROTOCOL_VERSION, agentVersion: o.agentVersion, name: o.name, capabilities };
}
