import type { ExecuteResultMessage, GatewayMessage, Logger } from '@vespid/protocol';
import type { ResultOutbox } from './outbox/outbox.js';
import type { Session } from './session.js';
import type { TaskRunner } from './task-runner.js';

/** What handling one gateway frame needs from the agent. */
export interface FrameContext {
  session: Session;
  runner: TaskRunner;
  outbox: ResultOutbox;
  /** False while closing: new work is refused with `AGENT_SHUTDOWN`. */
  accepting: boolean;
  /** The agent's own organization (from `hello_ack`, or the token prefix). */
  organizationId: string | undefined;
  logger: Logger;
  onAcked(): void;
}

function refuse(ctx: FrameContext, requestId: string, code: string, message: string): void {
  const result: ExecuteResultMessage = { type: 'execute_result', requestId, status: 'failed', error: { code, message } };
  // Refusals are results like any other: kept until acked so the caller learns why. No work was done,
  // so they are not journaled (a crash loses only the reason, and the gateway's deadline answers).
  ctx.outbox.add(result, (m) => ctx.session.send(m), { journal: false });
}

/** Dispatches one validated gateway → agent frame (everything but hello_ack, pong and rotate_token). */
export function handleGatewayFrame(msg: Exclude<GatewayMessage, { type: 'hello_ack' | 'pong' | 'rotate_token' }>, ctx: FrameContext): void {
  switch (msg.type) {
    case 'execute': {
      const { requestId } = msg;
      ctx.session.confirm(requestId);
      // A repeated execute (gateway retry after a reconnect) must not run the task twice.
      // A result still being synced to the journal goes out by itself when it is on disk.
      const finished = ctx.outbox.lookup(requestId);
      if (finished) {
        if (finished.sendable) ctx.session.send(finished.message);
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
      if (ctx.outbox.full) {
        ctx.logger.warn({ requestId, pendingResults: ctx.outbox.size }, 'outbox full; refusing new work until the gateway acks results');
        refuse(ctx, requestId, 'AGENT_OUTBOX_FULL', 'the agent holds too many unacknowledged results to take new work');
        return;
      }
      // Before the executor can start: a crash from here on is reported as AGENT_RESTARTED.
      ctx.outbox.started(requestId);
      ctx.runner.accept(msg);
      return;
    }
    case 'execute_ack':
      ctx.outbox.ack(msg.requestId);
      ctx.onAcked();
      return;
    case 'cancel':
      if (!ctx.runner.cancel(msg.requestId, msg.reason)) ctx.logger.debug({ requestId: msg.requestId }, 'cancel for an unknown task');
      return;
    case 'drain':
      // The gateway will close with 1001; running tasks continue and their results wait for the next session.
      ctx.logger.info({ reason: msg.reason }, 'gateway is draining');
      return;
    default: {
      // Exhaustive: a frame added to the protocol fails to compile here until it is handled.
      msg satisfies never;
      return;
    }
  }
}
