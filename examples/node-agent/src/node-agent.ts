import { hostname } from 'node:os';
import { dirname } from 'node:path';
import {
  type Agent,
  type AgentConfig,
  agentOptionsFromEnv,
  connectorActionExecutor,
  createAgent,
  createDestinationPolicy,
  type DestinationPolicy,
  defaultAgentConfigPath,
  type Executor,
  expandHome,
  githubConnector,
  httpConnector,
  pairAgent,
  parseAllowlist,
  readAgentConfig,
  sandboxNotConfiguredExecutor,
  saveTokenToConfigFile,
  writeAgentConfig,
} from '@vespid/sdk-agent';
import { AgentError, deregisterAgent } from '@vespid/sdk-agent';
import { type Logger, noopLogger, TagSchema } from '@vespid/protocol';
import { loadDockerSandbox } from './docker-loader.js';
import { CliError } from './exit-codes.js';
import { identityExists, tryReadIdentity } from './identity.js';
import { NODE_AGENT_VERSION } from './version.js';

type Env = Record<string, string | undefined>;

/**
 * The executors of the reference agent: `connector.action` with the `http` and `github` connectors, and
 * `agent.execute` through the Docker sandbox when `VESPID_AGENT_EXEC_BACKEND=docker`. With the variable
 * unset, `agent.execute` fails with `SANDBOX_BACKEND_NOT_CONFIGURED` (never runs on the host). The Docker
 * part (dockerode) is loaded only when asked for, so a connector-only agent never needs it.
 *
 * @example
 * ```ts
 * const executors = await buildExecutors(process.env);
 * ```
 */
export async function buildExecutors(env: Env): Promise<Executor[]> {
  const backend = env.VESPID_AGENT_EXEC_BACKEND?.trim().toLowerCase();
  // Node mode reaches the customer's private network by design; an operator who wants to narrow it
  // lists exactly what the connectors may reach (`public` for the internet).
  const allow = env.VESPID_AGENT_HTTP_ALLOWLIST?.trim();
  let destinations: DestinationPolicy | undefined;
  try {
    destinations = allow ? createDestinationPolicy({ allow: parseAllowlist(allow) }) : undefined;
  } catch (err) {
    throw new AgentError('AGENT_CONFIG_INVALID', `VESPID_AGENT_HTTP_ALLOWLIST: ${(err as Error).message}`);
  }
  const connectors = connectorActionExecutor({
    connectors: [
      httpConnector({ destinations }),
      githubConnector({ destinations, ...(env.VESPID_GITHUB_API_BASE_URL ? { apiBaseUrl: env.VESPID_GITHUB_API_BASE_URL } : {}) }),
    ],
  });
  if (!backend) return [connectors, sandboxNotConfiguredExecutor()];
  if (backend === 'docker') {
    const { sandbox, Dockerode } = await loadDockerSandbox();
    const options = sandbox.dockerSandboxOptionsFromEnv(env as NodeJS.ProcessEnv);
    const docker = options.docker ?? new Dockerode(options.socketPath ? { socketPath: options.socketPath } : undefined);
    return [connectors, sandbox.dockerSandboxExecutor({ ...options, docker })];
  }
  throw new AgentError('AGENT_CONFIG_INVALID', `VESPID_AGENT_EXEC_BACKEND=${backend} is not supported (use docker, or leave it unset)`);
}

/** Comma-separated tags (`"east,group:alpha"`) → validated list. */
export function parseTags(value: string | undefined): string[] {
  if (!value) return [];
  const tags = value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of tags) {
    if (!TagSchema.safeParse(t).success)
      throw new AgentError('AGENT_CONFIG_INVALID', `invalid tag "${t}" (no spaces or commas, max 128 chars)`);
  }
  return tags;
}

/** Options shared by {@link connectNodeAgent} and {@link startNodeAgent}. */
export interface NodeAgentRunOptions {
  /** Config file path. @default VESPID_AGENT_CONFIG_PATH or ~/.vespid/agent.json */
  configPath?: string;
  /** Agent name. @default the saved name, else the host name */
  name?: string;
  /** Tags reported in hello. @default VESPID_AGENT_TAGS, else the saved tags (start) */
  tags?: string[];
  /** @default 10 */
  maxInFlight?: number;
  /** Environment to read (`VESPID_*`, proxies). @default process.env */
  env?: Env;
  logger?: Logger;
  /** Replaces {@link buildExecutors} (tests, custom hosts). */
  executors?: Executor[];
  /** Wraps the logger handed to the runtime (the CLI demotes the runtime's connection lines). */
  runtimeLogger?: Logger;
}

/** A started agent and the config it runs with (the token is inside `config`: never log it). */
export interface RunningNodeAgent {
  agent: Agent;
  config: AgentConfig;
  configPath: string;
  /** The name reported in hello (a `--name` override or the saved one). */
  name: string;
  /** The tags reported in hello. */
  tags: string[];
}

/**
 * `start`: reads the saved config and starts the agent (no re-pairing).
 *
 * @example
 * ```ts
 * const { agent } = await startNodeAgent({ configPath: '/etc/vespid/agent.json', logger });
 * const stop = await agent.done;
 * ```
 */
export async function startNodeAgent(options: NodeAgentRunOptions = {}): Promise<RunningNodeAgent> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? noopLogger;
  const configPath = expandHome(options.configPath ?? defaultAgentConfigPath(env), env);
  const config = await readAgentConfig(configPath);
  const runtimeEnv = agentOptionsFromEnv(env);
  const name = options.name ?? config.name;
  const tags = options.tags ?? (env.VESPID_AGENT_TAGS ? parseTags(env.VESPID_AGENT_TAGS) : config.tags);
  const agent = createAgent({
    ...runtimeEnv,
    stateDir: runtimeEnv.stateDir ?? dirname(configPath), // the result outbox journal lives beside the config
    gatewayWsUrl: config.gatewayWsUrl,
    agentToken: config.agentToken,
    // In-band rotation: a new token from the gateway replaces the one in the config file (atomic, 0600).
    persistToken: saveTokenToConfigFile(configPath),
    name,
    tags,
    ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}),
    agentVersion: NODE_AGENT_VERSION,
    executors: options.executors ?? (await buildExecutors(env)),
    logger: options.runtimeLogger ?? logger,
  });
  agent.on('task.started', ({ requestId, kind }) => logger.debug({ requestId, kind }, 'task started'));
  logger.info(
    {
      agentId: config.agentId,
      organizationId: config.organizationId,
      agentName: name,
      configPath,
      version: NODE_AGENT_VERSION,
    },
    'starting agent',
  );
  await agent.start();
  return { agent, config, configPath, name, tags };
}

/** Options of {@link connectNodeAgent}. */
export interface NodeAgentConnectOptions extends NodeAgentRunOptions {
  pairingToken: string;
  /** Control-plane base URL. @default VESPID_API_BASE */
  apiBase?: string;
  /**
   * Replace an identity already saved at the config path: pair the new one, deregister the old one
   * (best effort), then overwrite. Without it, an existing identity is an error. @default false
   */
  replace?: boolean;
}

/**
 * `connect`: pairs with the control plane, saves the config (0600) and starts the agent.
 *
 * @example
 * ```ts
 * const { agent } = await connectNodeAgent({ pairingToken, apiBase: 'http://localhost:3001', tags: ['east'] });
 * ```
 */
export async function connectNodeAgent(options: NodeAgentConnectOptions): Promise<RunningNodeAgent> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? noopLogger;
  const apiBase = options.apiBase ?? env.VESPID_API_BASE;
  if (!apiBase) throw new AgentError('AGENT_CONFIG_INVALID', 'missing --api-base (or VESPID_API_BASE)');
  const configPath = expandHome(options.configPath ?? defaultAgentConfigPath(env), env);
  // Refuse before spending the single-use pairing token: two agents must never share one identity file.
  const exists = await identityExists(configPath);
  const previous = exists ? await tryReadIdentity(configPath) : undefined;
  if (exists && !options.replace) {
    const who = previous ? ` (agent ${previous.name}, ${previous.agentId})` : '';
    throw new CliError(
      `an agent identity already exists at ${configPath}${who}`,
      '`vespid-agent start` runs it; `vespid-agent remove` deregisters it; `connect --replace` pairs a new one and deregisters the old one; or pick another --config-path',
    );
  }
  const name = options.name ?? hostname();
  const tags = options.tags ?? parseTags(env.VESPID_AGENT_TAGS);
  const { ca } = agentOptionsFromEnv(env);
  const executors = options.executors ?? (await buildExecutors(env));
  logger.info({ apiBase, agentName: name, tags }, 'pairing with the control plane');
  const creds = await pairAgent({
    pairingToken: options.pairingToken,
    apiBase,
    name,
    tags,
    capabilities: { kinds: executors.map((e) => e.kind), connectors: [...new Set(executors.flatMap((e) => e.connectors ?? []))] },
    ...(ca ? { ca } : {}),
  });
  if (previous) {
    // The old identity goes away with the new one in hand; a failure only leaves a stale row on /agents.
    try {
      await deregisterAgent({ apiBase: previous.apiBase, agentToken: previous.agentToken, ...(ca ? { ca } : {}) });
      logger.info({ agentId: previous.agentId }, `replaced agent ${previous.name} (${previous.agentId}): deregistered`);
    } catch (err) {
      logger.warn(
        { agentId: previous.agentId, code: (err as AgentError).code },
        `could not deregister the replaced agent ${previous.agentId}; revoke it on the /agents page`,
      );
    }
  }
  await writeAgentConfig(configPath, { ...creds, apiBase, name, tags });
  logger.info({ agentId: creds.agentId, organizationId: creds.organizationId, configPath }, 'paired; agent config saved');
  return startNodeAgent({ ...options, configPath, name, tags, executors, env, logger });
}
