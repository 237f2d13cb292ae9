import type { Logger, RotateToken } from '@vespid/protocol';
import type { PersistToken } from './agent-options.js';
import { readAgentConfig, writeAgentConfig } from './config-file.js';
import type { Session } from './session.js';

/**
 * A {@link PersistToken} that rewrites the agent config file with the new token: read, replace
 * `agentToken`, write atomically (temp file, fsync, rename, mode 0600), so a crash leaves either the
 * old or the new file, never a torn one.
 *
 * @example
 * ```ts
 * createAgent({ ...options, persistToken: saveTokenToConfigFile(configPath) });
 * ```
 */
export function saveTokenToConfigFile(path: string): PersistToken {
  return async (token) => {
    const config = await readAgentConfig(path);
    await writeAgentConfig(path, { ...config, agentToken: token });
  };
}

/** What handling `rotate_token` needs from the runtime. */
export interface RotateContext {
  persist: PersistToken | undefined;
  logger: Logger;
  /** The token is on disk: use it for every later connect. */
  adopt(token: string): void;
}

/**
 * Saves the new token, switches to it, then acknowledges on the session it came on. A failed save
 * keeps the old token and answers with an error so the gateway does not activate the new one.
 * Neither the token nor an error message that could hold it is logged.
 */
export async function handleRotateToken(msg: RotateToken, session: Session, ctx: RotateContext): Promise<void> {
  const { rotationId } = msg;
  if (!ctx.persist) {
    // Never announced without persistToken; a gateway that sends it anyway gets a refusal.
    session.send({
      type: 'rotate_token_ack',
      rotationId,
      error: { code: 'AGENT_CONFIG_INVALID', message: 'this agent cannot store a rotated token' },
    });
    return;
  }
  try {
    await ctx.persist(msg.token, { expiresAt: msg.expiresAt });
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    ctx.logger.error(
      { rotationId, code: typeof code === 'string' ? code : undefined },
      'cannot save the rotated agent token; keeping the old one',
    );
    session.send({
      type: 'rotate_token_ack',
      rotationId,
      error: { code: 'AGENT_CONFIG_INVALID', message: 'the agent could not save its new token' },
    });
    return;
  }
  ctx.adopt(msg.token);
  ctx.logger.info({ rotationId, expiresAt: msg.expiresAt }, 'agent token rotated; the new token is saved');
  // If the session is gone, the next connect (with the new token) activates it on the control plane.
  session.send({ type: 'rotate_token_ack', rotationId });
}
