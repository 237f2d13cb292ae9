/**
 * `vespid-agent remove`: deregister (the agent revokes its own token on the control plane, which tells
 * the gateways) and delete the saved identity — `config.sh remove` of a GitHub runner.
 */
import type { Logger } from '@vespid/protocol';
import { deregisterAgent } from '@vespid/sdk-agent';
import { CliError } from './exit-codes.js';
import { deleteIdentity, identityExists, tryReadIdentity } from './identity.js';
import { controlPlaneCa } from './status.js';

/**
 * Deregisters and deletes. Without `force`, an unreachable control plane keeps the identity (so a later
 * `remove` can still revoke the token); with it, the file goes and the agent must be revoked on /agents.
 */
export async function removeAgent(
  configPath: string,
  options: { force?: boolean | undefined; env: Record<string, string | undefined>; logger: Logger; out(s: string): void },
): Promise<void> {
  const config = await tryReadIdentity(configPath);
  if (!config) {
    if (await identityExists(configPath)) {
      if (!options.force) {
        throw new CliError(
          `the agent config at ${configPath} is unreadable or invalid`,
          'pass --force to delete it anyway, then revoke the agent on the /agents page',
        );
      }
      await deleteIdentity(configPath);
      options.out(`deleted ${configPath} (not deregistered: revoke the agent on the /agents page)\n`);
      return;
    }
    throw new CliError(`no agent identity at ${configPath}`, 'nothing to remove (use --config-path if it lives elsewhere)');
  }
  try {
    const result = await deregisterAgent({ apiBase: config.apiBase, agentToken: config.agentToken, ...controlPlaneCa(options.env) });
    options.out(
      result.alreadyGone
        ? `agent ${config.name} (${config.agentId}) was already revoked on the control plane\n`
        : `deregistered agent ${config.name} (${config.agentId}) from ${config.apiBase}\n`,
    );
  } catch (err) {
    const hint = (err as { details?: { hint?: string } }).details?.hint;
    if (!options.force) {
      throw new CliError(
        `cannot deregister agent ${config.agentId}: ${(err as Error).message}`,
        `${hint ? `${hint}; ` : ''}the identity is kept so \`remove\` can be retried; --force deletes it anyway (then revoke the agent on /agents)`,
      );
    }
    options.out(`could not deregister (${(err as Error).message}); deleting anyway: revoke ${config.agentId} on the /agents page\n`);
  }
  await deleteIdentity(configPath);
  options.out(`deleted ${configPath}\n`);
}
