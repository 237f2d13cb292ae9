/**
 * Supervises a started agent for the CLI: connection feedback, the state file behind `status`, the
 * optional health server, `--ephemeral` (one task, then deregister and exit) and SIGINT/SIGTERM drain.
 * Resolves with the exit code once the agent has stopped.
 */
import type { Logger } from '@vespid/protocol';
import { deregisterAgent, agentOptionsFromEnv } from '@vespid/sdk-agent';
import { attachConnectionFeedback } from './connection-feedback.js';
import { CliError, EXIT } from './exit-codes.js';
import { startHealthServer } from './health-server.js';
import { deleteIdentity, tryReadIdentity, updateAgentState } from './identity.js';
import type { RunningNodeAgent } from './node-agent.js';
import { pairAgainHint } from './rotate.js';
import { NODE_AGENT_VERSION } from './version.js';

/** How long an ephemeral agent lets its one task run before the drain aborts it. */
const EPHEMERAL_TASK_BUDGET_MS = 24 * 60 * 60_000;

/** Options of {@link superviseAgent}. */
export interface SuperviseOptions {
  logger: Logger;
  env: Record<string, string | undefined>;
  drainTimeoutMs: number;
  ephemeral: boolean;
  healthPort?: number | undefined;
  healthHost?: string | undefined;
  /** Installs SIGINT/SIGTERM handlers that call `stop`; returns an uninstaller. */
  onSignal(stop: (signal: string) => void): () => void;
  err(text: string): void;
}

/**
 * Runs `running.agent` until it stops and returns the process exit code.
 *
 * @example
 * ```ts
 * const code = await superviseAgent(await startNodeAgent({ logger }), { logger, env, drainTimeoutMs: 30_000, ephemeral: false, onSignal, err });
 * ```
 */
export async function superviseAgent(running: RunningNodeAgent, o: SuperviseOptions): Promise<number> {
  const { agent, config, configPath } = running;
  const { logger } = o;
  let permanent: CliError | undefined;
  const offFeedback = attachConnectionFeedback({
    agent,
    logger,
    url: config.gatewayWsUrl,
    name: running.name,
    tags: running.tags,
    onPermanentError(error) {
      permanent ??= error;
      void agent.close({ timeoutMs: 0 });
    },
  });
  const offState = [
    agent.on('connected', ({ sessionId }) => {
      void updateAgentState(configPath, {
        lastConnectedAt: new Date().toISOString(),
        lastSessionId: sessionId,
        lastGatewayWsUrl: config.gatewayWsUrl,
        agentVersion: NODE_AGENT_VERSION,
      }).then((e) => e && logger.debug({ err: e.message }, 'cannot write the agent state file'));
    }),
    agent.on('disconnected', () => {
      void updateAgentState(configPath, { lastDisconnectedAt: new Date().toISOString() });
    }),
  ];
  if (o.ephemeral) {
    const off = agent.on('task.started', ({ requestId, kind }) => {
      off();
      logger.info({ requestId, kind }, 'ephemeral: took one task; finishing it, then deregistering');
      void agent.close({ timeoutMs: EPHEMERAL_TASK_BUDGET_MS });
    });
  }
  const health =
    o.healthPort !== undefined
      ? await startHealthServer(agent, { port: o.healthPort, host: o.healthHost }).catch((e: Error) => e)
      : undefined;
  if (health instanceof Error) {
    await agent.close({ timeoutMs: 0 });
    throw new CliError(`cannot serve --health-port ${o.healthPort}: ${(health as NodeJS.ErrnoException).code ?? health.message}`);
  }
  if (health) logger.info({ url: health.url }, `health: ${health.url}/healthz, metrics: ${health.url}/metrics`);

  const uninstall = o.onSignal((signal) => {
    logger.info({ signal, inFlight: agent.inFlight, drainTimeoutMs: o.drainTimeoutMs }, 'stopping: finishing running tasks');
    void agent.close({ timeoutMs: o.drainTimeoutMs });
  });
  const stop = await agent.done;
  uninstall();
  offFeedback();
  for (const off of offState) off();
  await health?.close();

  if (permanent) {
    o.err(`vespid-agent: ${permanent.message}\n  hint: ${permanent.hint}\n`);
    return EXIT.failure;
  }
  if (stop.error) {
    const hint = stop.error.code === 'AGENT_TOKEN_EXPIRED' ? `  hint: ${pairAgainHint(config.apiBase)}\n` : '';
    o.err(`vespid-agent: ${stop.error.message}\n${hint}`);
    return EXIT.failure;
  }
  if (o.ephemeral) {
    const { ca } = agentOptionsFromEnv(o.env);
    try {
      // The token may have been rotated while the agent ran: the file holds the current one.
      const current = (await tryReadIdentity(configPath)) ?? config;
      await deregisterAgent({ apiBase: current.apiBase, agentToken: current.agentToken, ...(ca ? { ca } : {}) });
      await deleteIdentity(configPath);
      logger.info({ agentId: config.agentId }, `ephemeral: deregistered ${config.name} (${config.agentId}) and deleted ${configPath}`);
    } catch (err) {
      o.err(
        `vespid-agent: ephemeral agent could not deregister: ${(err as Error).message}\n  hint: run \`vespid-agent remove\` later, or revoke it on the /agents page\n`,
      );
      return EXIT.failure;
    }
  }
  logger.info({}, 'agent stopped');
  return EXIT.ok;
}
