/**
 * `vespid-agent rotate`: asks the control plane for a new agent token (authenticated with the current
 * one). The token itself never comes back over HTTP: the gateway sends it in-band to the running
 * agent, which saves it to the config file (atomically, 0600). This command then waits for the file
 * to change, so "rotated" means "the new token is on disk".
 */
import { requestTokenRotation } from '@vespid/sdk-agent';
import { CliError } from './exit-codes.js';
import { tryReadIdentity } from './identity.js';
import { controlPlaneCa } from './status.js';

/** Hint printed whenever an agent token is past its rotation overlap. */
export function pairAgainHint(apiBase: string): string {
  return `the token was rotated and its overlap window ended: pair again with a new pairing token: vespid-agent connect --pairing-token <token> --api-base ${apiBase} --replace`;
}

/** Requests the rotation, then waits up to `waitMs` for the running agent to save its new token. */
export async function rotateAgentToken(
  configPath: string,
  options: { waitMs: number; env: Record<string, string | undefined>; out(s: string): void; pollMs?: number },
): Promise<void> {
  const config = await tryReadIdentity(configPath);
  if (!config)
    throw new CliError(
      `no readable agent identity at ${configPath}`,
      'pair one: vespid-agent connect --pairing-token <token> --api-base <url>',
    );
  let until: string;
  try {
    ({ oldTokenValidUntil: until } = await requestTokenRotation({
      apiBase: config.apiBase,
      agentToken: config.agentToken,
      ...controlPlaneCa(options.env),
    }));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const hint = code === 'AGENT_TOKEN_EXPIRED' ? pairAgainHint(config.apiBase) : (err as { details?: { hint?: string } }).details?.hint;
    throw new CliError(`cannot request a token rotation for ${config.agentId}: ${(err as Error).message}`, hint);
  }
  options.out(`rotation requested for ${config.name} (${config.agentId}); the current token stays valid until ${until}\n`);
  const deadline = Date.now() + options.waitMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
    const now = await tryReadIdentity(configPath);
    if (now && now.agentToken !== config.agentToken) {
      options.out(`token rotated: the running agent saved its new token to ${configPath}\n`);
      return;
    }
  }
  options.out(
    `the agent is not connected (or did not answer yet): start it before ${until} (vespid-agent start) and it is rotated when it connects\n`,
  );
}
