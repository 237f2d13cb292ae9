import { TypedEvents, parseToken } from '@vespid/protocol';
import { type AgentOptions, type ResolvedAgentOptions, resolveAgentOptions } from './agent-options.js';
import { fullJitterDelay } from './backoff.js';
import type { AgentAuthError } from './errors.js';
import type { Executor } from './executor.js';
import { createNetwork, type Network } from './network.js';
import { ResultOutbox } from './outbox/outbox.js';
import { Session, type SessionEnd, withReceiptInResult } from './session.js';
import { TaskRunner } from './task-runner.js';
import { handleGatewayFrame } from './frame-handler.js';
import { buildHello } from './hello.js';
import { handleRotateToken } from './token-rotation.js';
import { createAgentTracing } from './tracing.js';

/**
 * Lifecycle of an agent. `stopped` means its credentials were refused (see `AgentStopInfo.error`).
 *
 * @example
 * ```ts
 * if (agent.state === 'reconnecting') showBanner('gateway unreachable');
 * ```
 */
export type AgentState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed' | 'stopped';

/**
 * Events of an agent, with their payloads.
 *
 * @example
 * ```ts
 * agent.on('task.finished', ({ requestId, status, errorCode }) => log.info({ requestId, status, errorCode }));
 * ```
 */
export interface AgentEvents {
  connected: { sessionId: string; agentId: string; organizationId: string; heartbeatMs: number };
  disconnected: { code: number; reason: string; willReconnect: boolean; delayMs?: number };
  'task.started': { requestId: string; kind: string };
  'task.finished': { requestId: string; kind: string; status: 'succeeded' | 'failed'; errorCode?: string; durationMs: number };
  /** The gateway rotated the agent token and `persistToken` saved it (the token itself is not in the event). */
  'token.rotated': { rotationId: string; expiresAt?: number };
  stopped: AgentStopInfo;
}

/**
 * Why the agent's loop ended: a normal `close()` (no error) or refused credentials.
 *
 * @example
 * ```ts
 * const { state, error } = await agent.done; if (error) process.exitCode = 1;
 * ```
 */
export interface AgentStopInfo {
  state: 'closed' | 'stopped';
  error?: AgentAuthError;
}

/**
 * A running node-agent. Create with {@link createAgent}.
 *
 * @example
 * ```ts
 * const agent = createAgent(options);
 * agent.on('connected', ({ agentId }) => log.info({ agentId }, 'connected'));
 * await agent.start();
 * const { error } = await agent.done; // resolves on close() or when the token is refused
 * ```
 */
export interface Agent extends AsyncDisposable {
  readonly state: AgentState;
  readonly closed: boolean;
  /** Known after the first `hello_ack`. */
  readonly agentId: string | undefined;
  /** Tasks accepted and not finished. */
  readonly inFlight: number;
  /** Results finished but not yet acked by the gateway. */
  readonly pendingResults: number;
  /** Resolves when the agent has stopped for good (after `close()` or a refused token). Never rejects. */
  readonly done: Promise<AgentStopInfo>;
  /** Starts executors and the connect loop. Idempotent; resolves once the loop runs (not when connected). */
  start(): Promise<void>;
  /**
   * Stops taking work, lets in-flight tasks finish until `timeoutMs` (then aborts them with
   * `AGENT_SHUTDOWN`), delivers their results, then disconnects. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  on<K extends keyof AgentEvents>(event: K, listener: (payload: AgentEvents[K]) => void): () => void;
  off<K extends keyof AgentEvents>(event: K, listener: (payload: AgentEvents[K]) => void): void;
}

/**
 * Creates a node-agent: connects to the gateway with `Authorization: Bearer <agentToken>`, sends
 * `hello`, keeps a heartbeat, reconnects forever with capped full-jitter backoff (but stops on
 * 401/403/4401/4403), runs tasks through executors with at most `maxInFlight` at once, and keeps every
 * result until the gateway acks it, resending after each reconnect.
 *
 * @example
 * ```ts
 * const agent = createAgent({
 *   gatewayWsUrl: 'ws://localhost:3002/ws',
 *   agentToken: config.agentToken,
 *   name: 'edge-1',
 *   tags: ['east'],
 *   executors: [connectorActionExecutor({ connectors: [httpConnector()] }), sandboxNotConfiguredExecutor()],
 * });
 * await agent.start();
 * ```
 */
export function createAgent(options: AgentOptions): Agent {
  return new AgentRuntime(resolveAgentOptions(options));
}

class AgentRuntime implements Agent {
  readonly #o: ResolvedAgentOptions;
  readonly #events: TypedEvents<AgentEvents>;
  readonly #executors: ReadonlyMap<string, Executor>;
  readonly #runner: TaskRunner;
  readonly #network: Network;
  /** Finished results waiting for `execute_ack`, in finish order (journaled when a state dir is set). */
  readonly #outbox: ResultOutbox;
  readonly #tokenOrg: string | undefined;
  /** The token for the next connect: the configured one until a `rotate_token` is saved. */
  #token: string;
  #state: AgentState = 'idle';
  #session: Session | undefined;
  #agentId: string | undefined;
  #organizationId: string | undefined;
  #accepting = true;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #wakeLoop: (() => void) | undefined;
  #resolveDone!: (info: AgentStopInfo) => void;
  #outboxDrained: (() => void) | undefined;
  /** Executors and the network released after a stop; close() resolves only once it has settled. */
  #released: Promise<void> = Promise.resolve();
  readonly done: Promise<AgentStopInfo>;

  constructor(o: ResolvedAgentOptions) {
    this.#o = o;
    this.#events = new TypedEvents<AgentEvents>({ logger: o.logger, source: 'agent' });
    this.#executors = new Map(o.executors.map((e) => [e.kind, e]));
    this.#network = createNetwork({ ca: o.ca, proxyForUrl: o.proxyForUrl });
    this.#tokenOrg = parseToken(o.agentToken)?.organizationId;
    this.#token = o.agentToken;
    this.#outbox = new ResultOutbox({
      stateDir: o.stateDir,
      maxEntries: o.outboxMaxEntries,
      maxBytes: o.outboxMaxBytes,
      logger: o.logger,
    });
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#runner = new TaskRunner({
      executors: this.#executors,
      maxInFlight: o.maxInFlight,
      logger: o.logger,
      workdir: o.workdir,
      maxResultBytes: o.maxPayloadBytes,
      abortGraceMs: o.abortGraceMs,
      // Null unless `tracing` is on: loads @opentelemetry/api then, and only then.
      tracing: createAgentTracing(o.tracing),
      hooks: {
        onStarted: (info) => this.#events.emit('task.started', info),
        onFinished: (result, info) => {
          // Sent once it is on disk (at once without a state dir), on whatever session is current then.
          this.#outbox.add(result, (m) => this.#session?.send(m));
          const payload: AgentEvents['task.finished'] = {
            requestId: result.requestId,
            kind: info.kind,
            status: result.status,
            durationMs: info.durationMs,
          };
          if (result.error) payload.errorCode = result.error.code;
          this.#events.emit('task.finished', payload);
        },
      },
    });
  }

  get state(): AgentState {
    return this.#state;
  }
  get closed(): boolean {
    return this.#state === 'closed' || this.#state === 'stopped';
  }
  get agentId(): string | undefined {
    return this.#agentId;
  }
  get inFlight(): number {
    return this.#runner.size;
  }
  get pendingResults(): number {
    return this.#outbox.size;
  }

  on<K extends keyof AgentEvents>(event: K, listener: (payload: AgentEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }
  off<K extends keyof AgentEvents>(event: K, listener: (payload: AgentEvents[K]) => void): void {
    this.#events.off(event, listener);
  }

  async start(): Promise<void> {
    if (this.#loop || this.closed || this.#closing) return;
    this.#state = 'connecting';
    this.#loop = Promise.resolve();
    try {
      // Recovered results are resent on the first session; tasks cut short by a crash become AGENT_RESTARTED.
      // An unusable state dir (read-only, not a directory) must not keep the agent down: it runs, without
      // crash-safety for its results, and says so loudly.
      await this.#outbox.open().catch((err: unknown) => {
        this.#o.logger.error(
          { stateDir: this.#o.stateDir, code: (err as NodeJS.ErrnoException).code },
          'cannot open the outbox journal; unacknowledged results are kept in memory only',
        );
      });
      for (const e of this.#executors.values()) await e.start?.();
    } catch (err) {
      // An executor that cannot start (e.g. Docker unreachable) leaves the agent startable again.
      this.#state = 'idle';
      this.#loop = undefined;
      throw err;
    }
    this.#loop = this.#runLoop().catch((err: unknown) => {
      this.#o.logger.error({ err: (err as Error)?.message }, 'agent loop crashed');
    });
  }

  async #runLoop(): Promise<void> {
    let attempt = 0;
    // While closing, the loop keeps reconnecting only to deliver results still waiting for an ack.
    while (!this.closed) {
      if (this.#closing && this.#outbox.size === 0 && this.#runner.size === 0) break;
      const session = new Session({
        url: this.#o.gatewayWsUrl,
        token: this.#token,
        hello: withReceiptInResult(buildHello(this.#o, [...this.#executors.values()])),
        network: this.#network,
        logger: this.#o.logger,
        maxPayloadBytes: this.#o.maxPayloadBytes,
        connectTimeoutMs: this.#o.connectTimeoutMs,
        heartbeatMs: this.#o.heartbeatMs,
        missedPongs: this.#o.missedPongs,
        onReady: (ack, s) => {
          this.#agentId = ack.agentId;
          this.#organizationId = ack.organizationId;
          if (!this.#closing) this.#state = 'connected';
          attempt = 0;
          this.#o.logger.info(
            { agentId: ack.agentId, sessionId: ack.sessionId, pendingResults: this.#outbox.size },
            'connected to gateway',
          );
          this.#events.emit('connected', {
            sessionId: ack.sessionId,
            agentId: ack.agentId,
            organizationId: ack.organizationId,
            heartbeatMs: ack.heartbeatMs,
          });
          this.#outbox.prune();
          for (const result of this.#outbox.sendable()) s.send(result);
        },
        onMessage: (msg, s) => {
          if (msg.type === 'rotate_token') {
            void handleRotateToken(msg, s, {
              persist: this.#o.persistToken,
              logger: this.#o.logger,
              adopt: (token) => {
                this.#token = token;
                const event: AgentEvents['token.rotated'] = { rotationId: msg.rotationId };
                if (msg.expiresAt !== undefined) event.expiresAt = msg.expiresAt;
                this.#events.emit('token.rotated', event);
              },
            });
            return;
          }
          handleGatewayFrame(msg, {
            session,
            runner: this.#runner,
            outbox: this.#outbox,
            accepting: this.#accepting,
            organizationId: this.#organizationId ?? this.#tokenOrg,
            logger: this.#o.logger,
            onAcked: () => this.#checkDrained(),
          });
        },
      });
      this.#session = session;
      const end: SessionEnd = await session.run();
      this.#session = undefined;
      if (end.fatal) {
        this.#o.logger.error({ code: end.fatal.code, status: end.fatal.status }, end.fatal.message);
        this.#events.emit('disconnected', { code: end.code, reason: end.reason, willReconnect: false });
        this.#stop({ state: 'stopped', error: end.fatal });
        return;
      }
      if (this.closed) break;
      if (this.#closing && this.#outbox.size === 0 && this.#runner.size === 0) {
        this.#events.emit('disconnected', { code: end.code, reason: end.reason, willReconnect: false });
        break;
      }
      const delayMs = fullJitterDelay(attempt++, this.#o.reconnect, this.#o.random);
      if (!this.#closing) this.#state = 'reconnecting';
      this.#o.logger.warn({ code: end.code, reason: end.reason, delayMs, attempt }, 'disconnected from gateway; reconnecting');
      this.#events.emit('disconnected', { code: end.code, reason: end.reason, willReconnect: true, delayMs });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delayMs);
        this.#wakeLoop = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wakeLoop = undefined;
    }
  }

  #checkDrained(): void {
    if (this.#outbox.size === 0 && this.#runner.size === 0) this.#outboxDrained?.();
  }

  #stop(info: AgentStopInfo): void {
    if (this.closed) return;
    this.#state = info.state;
    this.#accepting = false;
    this.#runner.abortAll(info.error ? 'agent credentials refused' : 'agent closed');
    this.#session?.close(1000, 'agent closing');
    this.#wakeLoop?.();
    // Awaited by close() (an executor's close may kill containers); a stop by refused credentials has no
    // caller to await it, so a failure is logged here rather than left unhandled.
    this.#released = Promise.allSettled([...this.#executors.values()].map((e) => e.close?.()))
      .then(() => this.#network.close())
      .catch((err: unknown) => this.#o.logger.warn({ err: (err as Error)?.message }, 'closing the network failed'));
    // Unacknowledged results stay in the journal and are resent by the next start.
    this.#outbox.close();
    this.#events.emit('stopped', info);
    this.#resolveDone(info);
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return this.#closing ?? this.#released;
    this.#closing ??= this.#close(options.timeoutMs ?? 30_000);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#state = 'closing';
    this.#accepting = false;
    const deadline = Date.now() + timeoutMs;
    // Keep a slice of the budget to deliver the results of tasks aborted at the drain deadline.
    const reserve = Math.min(2_000, Math.floor(timeoutMs / 5));
    const drain = AbortSignal.timeout(Math.max(0, timeoutMs - reserve));
    await this.#runner.idle(drain);
    if (this.#runner.size > 0) {
      this.#o.logger.warn({ inFlight: this.#runner.size }, 'drain timeout reached; aborting in-flight tasks');
      this.#runner.abortAll('agent is shutting down');
      await this.#runner.idle(AbortSignal.timeout(Math.max(0, deadline - Date.now())));
    }
    if (this.#outbox.size > 0 && this.#loop) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.#outboxDrained = () => {
          clearTimeout(t);
          resolve();
        };
        this.#checkDrained();
      });
    }
    if (this.#outbox.size > 0) this.#o.logger.warn({ pendingResults: this.#outbox.size }, 'closing with results the gateway never acked');
    this.#stop({ state: 'closed' });
    await this.#loop;
    await this.#released;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
