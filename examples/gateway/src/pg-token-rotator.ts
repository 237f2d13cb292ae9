import { type Pool, activatePendingToken, setPendingToken } from '@vespid/example-db';
import { generateToken, hashToken } from '@vespid/protocol';
import type { TokenRotator } from '@vespid/sdk-gateway';

/**
 * The gateway mints rotated tokens itself, in the replica that holds the agent's socket: the token
 * goes from this process's memory to the agent's WebSocket and nowhere else (no Redis, no HTTP body,
 * no log). Postgres gets its hash as pending; the agent's ack (or its next connect with it) makes it
 * current, and the old token is accepted until the rotation deadline (`AGENT_TOKEN_ROTATION_OVERLAP_MS`).
 *
 * @example
 * ```ts
 * createGateway({ authenticator, tokenRotator: postgresTokenRotator(pool, { overlapMs }) });
 * ```
 */
export function postgresTokenRotator(pool: Pool, options: { overlapMs: number }): TokenRotator {
  return {
    async issue(agent) {
      const token = generateToken(agent.organizationId);
      if (!(await setPendingToken(pool, agent.agentId, hashToken(token))))
        throw new Error(`agent ${agent.agentId} is revoked or deleted: no token issued`);
      return { token };
    },
    async activate(agent, token) {
      // False when the agent already activated it by connecting with it: nothing left to do.
      await activatePendingToken(pool, agent.agentId, hashToken(token), options.overlapMs);
    },
  };
}
