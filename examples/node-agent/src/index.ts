/**
 * `@vespid/node-agent` — the reference node-agent host. The CLI is `src/cli.ts` (`vespid-agent`); the
 * same start logic is exported so demos and end-to-end tests can run an agent in-process.
 *
 * @example
 * ```ts
 * import { connectNodeAgent } from '@vespid/node-agent';
 * const { agent } = await connectNodeAgent({ pairingToken, apiBase: 'http://localhost:3001', tags: ['east'] });
 * ```
 */
export { runCli, type CliIo } from './run-cli.js';
export {
  buildExecutors,
  connectNodeAgent,
  parseTags,
  startNodeAgent,
  type NodeAgentConnectOptions,
  type NodeAgentRunOptions,
  type RunningNodeAgent,
} from './node-agent.js';
export { createCliLogger, REDACT_PATHS, type CliLoggerOptions } from './logger.js';
