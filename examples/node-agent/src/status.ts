/**
 * `vespid-agent status`: what this machine's agent identity is, from the config and state files. It
 * never prints the token and needs no network.
 */
import { agentOptionsFromEnv, type AgentConfig } from '@vespid/sdk-agent';
import { CliError } from './exit-codes.js';
import { type AgentState, identityExists, readAgentState, tryReadIdentity } from './identity.js';
import { NODE_AGENT_VERSION } from './version.js';

/** The facts `status` prints. */
export interface AgentStatus {
  configPath: string;
  name: string;
  agentId: string;
  organizationId: string;
  apiBase: string;
  gatewayWsUrl: string;
  tags: string[];
  version: string;
  lastConnectedAt: string | null;
  lastDisconnectedAt: string | null;
  lastVersion: string | null;
}

/** Reads the identity at `configPath`; a missing one is an error with the command that creates it. */
export async function readStatus(configPath: string): Promise<AgentStatus> {
  const config: AgentConfig | undefined = await tryReadIdentity(configPath);
  if (!config) {
    const exists = await identityExists(configPath);
    throw new CliError(
      exists ? `the agent config at ${configPath} is unreadable or invalid` : `no agent identity at ${configPath}`,
      exists
        ? 'fix its permissions, or `connect --replace` with a new pairing token'
        : 'pair one: vespid-agent connect --pairing-token <token> --api-base <url>',
    );
  }
  const state: AgentState = await readAgentState(configPath);
  return {
    configPath,
    name: config.name,
    agentId: config.agentId,
    organizationId: config.organizationId,
    apiBase: config.apiBase,
    gatewayWsUrl: config.gatewayWsUrl,
    tags: config.tags,
    version: NODE_AGENT_VERSION,
    lastConnectedAt: state.lastConnectedAt ?? null,
    lastDisconnectedAt: state.lastDisconnectedAt ?? null,
    lastVersion: state.agentVersion ?? null,
  };
}

/** Human-readable lines of {@link readStatus}'s result. */
export function formatStatus(s: AgentStatus): string {
  const rows: Array<[string, string]> = [
    ['agent', `${s.name} (${s.agentId})`],
    ['organization', s.organizationId],
    ['control plane', s.apiBase],
    ['gateway', s.gatewayWsUrl],
    ['tags', s.tags.length ? s.tags.join(', ') : '(none)'],
    ['version', s.lastVersion && s.lastVersion !== s.version ? `${s.version} (last run with ${s.lastVersion})` : s.version],
    ['last connection', s.lastConnectedAt ?? 'never'],
    ['last disconnection', s.lastDisconnectedAt ?? '—'],
    ['config', s.configPath],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

/** The CA to use for control-plane calls, from `VESPID_AGENT_TLS_CA_FILE`. */
export function controlPlaneCa(env: Record<string, string | undefined>): { ca?: string | Buffer } {
  const { ca } = agentOptionsFromEnv(env);
  return ca ? { ca } : {};
}
