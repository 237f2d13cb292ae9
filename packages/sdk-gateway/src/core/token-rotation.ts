import { randomUUID } from 'node:crypto';
import { AGENT_FEATURES, type Logger, type RotateToken, type RotateTokenAck, encodeMessage } from '@vespid/protocol';
import type { TokenRotator } from '../authenticator.js';
import { errText } from './err-text.js';
import type { Registry } from './registry.js';
import type { PendingRotation, Session } from './session.js';

/**
 * What a rotation request found: `started` sessions were sent (or are being sent) `rotate_token`;
 * `unsupported` ones belong to agents whose hello did not list the feature (older agents: never sent
 * the frame, they keep their token until it expires); `busy` ones already had a rotation in progress.
 *
 * @example
 * ```ts
 * const { started, unsupported } = gateway.rotateAgentTokens({ organizationId });
 * ```
 */
export interface RotationOutcome {
  started: number;
  unsupported: number;
  busy: number;
}

interface Deps {
  registry: Registry;
  rotator: TokenRotator | undefined;
  logger: Logger;
  ackTimeoutMs: number;
}

/**
 * In-band token rotation on the gateway side: mint (through the {@link TokenRotator}), send
 * `rotate_token` on the agent's own socket, wait for `rotate_token_ack`, activate. One rotation per
 * session at a time. The token value lives only in the frame: it is never logged or put in an error.
 */
export class TokenRotations {
  constructor(private readonly deps: Deps) {}

  /** Whether this session's agent announced the `rotate_token` feature in its hello. */
  static supports(session: Session): boolean {
    return session.capabilities?.features?.includes(AGENT_FEATURES.rotateToken) ?? false;
  }

  /** Rotates the token of every ready session matching `match`. */
  request(match: (s: Session) => boolean): RotationOutcome {
    const outcome: RotationOutcome = { started: 0, unsupported: 0, busy: 0 };
    for (const s of this.deps.registry.all) {
      if (s.state !== 'ready' || !match(s)) continue;
      outcome[this.start(s)]++;
    }
    return outcome;
  }

  /** Starts one rotation; the work continues in the background (errors are logged, never thrown). */
  start(session: Session): keyof RotationOutcome {
    if (!this.deps.rotator || !TokenRotations.supports(session)) {
      this.deps.logger.info(
        { agentId: session.agentId, sessionId: session.sessionId, configured: !!this.deps.rotator },
        'token rotation skipped: the agent does not support rotate_token (or no rotator is configured)',
      );
      return 'unsupported';
    }
    if (session.rotation) return 'busy';
    const pending: PendingRotation = { rotationId: randomUUID() };
    session.rotation = pending;
    void this.run(session, this.deps.rotator, pending);
    return 'started';
  }

  /** A `rotate_token_ack` arrived; one that answers no rotation of this session is ignored. */
  onAck(session: Session, ack: RotateTokenAck): void {
    if (session.rotation?.rotationId !== ack.rotationId) {
      this.deps.logger.warn({ agentId: session.agentId, rotationId: ack.rotationId }, 'rotate_token_ack for no pending rotation: ignored');
      return;
    }
    session.rotation.settle?.(ack);
  }

  /** The session is gone: a rotation waiting on it gives up (the agent may still connect with the new token). */
  onClosed(session: Session): void {
    session.rotation?.settle?.(null);
  }

  private async run(session: Session, rotator: TokenRotator, pending: PendingRotation): Promise<void> {
    const ref = { agentId: session.agentId, organizationId: session.organizationId };
    const log = { ...ref, sessionId: session.sessionId, rotationId: pending.rotationId };
    let timer: NodeJS.Timeout | undefined;
    try {
      const issued = await rotator.issue(ref);
      if (session.state !== 'ready') return;
      const answer = new Promise<RotateTokenAck | null>((resolve) => {
        pending.settle = resolve;
        timer = setTimeout(() => resolve(null), this.deps.ackTimeoutMs);
        timer.unref?.();
      });
      const frame: RotateToken = { type: 'rotate_token', rotationId: pending.rotationId, token: issued.token };
      if (issued.expiresAt !== undefined) frame.expiresAt = issued.expiresAt;
      if (!session.send(encodeMessage(frame))) {
        this.deps.logger.warn(log, 'could not send rotate_token: the session is closing');
        return;
      }
      this.deps.logger.info(log, 'rotate_token sent');
      const ack = await answer;
      if (!ack) {
        // The agent may have saved the token anyway: connecting with it activates it.
        this.deps.logger.warn(log, 'rotate_token not acknowledged (timeout or disconnect); the old token stays current');
        return;
      }
      if (ack.error) {
        this.deps.logger.warn({ ...log, code: ack.error.code }, 'the agent could not save its new token; the old token stays current');
        return;
      }
      await rotator.activate(ref, issued.token);
      this.deps.logger.info(log, 'agent token rotated');
    } catch (err) {
      this.deps.logger.warn({ ...log, err: errText(err) }, 'token rotation failed; the old token stays current');
    } finally {
      if (timer) clearTimeout(timer);
      if (session.rotation === pending) session.rotation = null;
    }
  }
}
