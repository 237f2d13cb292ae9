import type { ExecuteResultMessage, GatewayMessage, Logger } from '@vespid/protocol';
import type { Session } from './session.js';
import type { TaskRunner } from './task-runner.js';

/** What handling one gateway frame needs from the agent. */
export interface FrameContext {
  session: Session;
  runner: TaskRunner;
  outbox: Map<string, ExecuteResultMessage>;
  /** False while closing: new work is refused with `AGENT_SHUTDOWN`. */
  accepting: boolean;
  /** The agent's own organization (from `hello_ack`, or the token prefix). */
  organizationId: string | undefined;
  logger: Logger;
  onAcked(): void;
}

function refuse(ctx: FrameContext, requestId: string, code: string, message: string): void {
  const result: ExecuteResultMessage = { type: 'execute_result', requestId, status: 'failed', error: { code, message } };
  // Refusals are results like any other: kept until acked so the caller learns why.
  ctx.outbox.set(requestId, result);
  ctx.session.send(result);
}

/** Dispatches one validated gateway → agent frame (everything but hello_ack and pong). */
export function handleGatewayFrame(msg: Exclude<GatewayMessage, { type: 'hello_ack' | 'pong' }>, ctx: FrameContext): void {
  switch (msg.type) {
    case 'execute': {
      const { requestId } = msg;
      ctx.session.send({ type: 'execute_received', requestId });
      // A repeated execute (gateway retry after a reconnect) must not run the task twice.
      const finished = ctx.outbox.get(requestId);
      if (finished) {
        ctx.session.send(finished);
        return;
      }
      if (ctx.runner.has(requestId)) return;
      if (msg.organizationId !== ctx.organizationId) {
        ctx.logger.warn({ requestId, organizationId: msg.organizationId }, 'refused execute addressed to another organization');
        refuse(ctx, requestId, 'ORG_MISMATCH', 'this agent belongs to another organization');
        return;
      }
      if (!ctx.accepting) {
        refuse(ctx, requestId, 'AGENT_SHUTDOWN', 'the agent is shutting down and takes no new work');
        return;
      }
      ctx.runner.accept(msg);
      return;
    }
    case 'execute_ack':
      ctx.outbox.delete(msg.requestId);
      ctx.onAcked();
      return;
    case 'cancel':
      if (!ctx.runner.cancel(msg.requestId, msg.reason)) ctx.logger.debug({ requestId: msg.requestId }, 'cancel for an unknown task');
      return;
    case 'drain':
      // The gateway will close with 1001; running tasks continue and their results wait for the next session.
      ctx.logger.info({ reason: msg.reason }, 'gateway is draining');
      return;
  }
}
