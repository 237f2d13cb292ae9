import type { Logger } from '@vespid/protocol';
import type { z } from 'zod';
import { AgentError } from '../errors.js';

/**
 * What a connector action receives besides its validated input.
 *
 * @example
 * ```ts
 * async run(input, { secret, signal }) { return callApi(input, { token: secret, signal }); }
 * ```
 */
export interface ConnectorActionContext {
  /** The decrypted secret for this one request, if the node has one. Never log or return it. */
  readonly secret?: string | undefined;
  /** Aborted on timeout, cancel and shutdown. Pass it to every I/O call. */
  readonly signal: AbortSignal;
  /** Logger bound to the request. */
  readonly logger: Logger;
}

/**
 * One action of a connector: an id, a zod schema for its input, whether it needs a secret, and `run`.
 * Throw an {@link AgentError} with the connector's own code to fail with a clear message.
 *
 * @example
 * ```ts
 * const ping = defineAction({ id: 'ping', input: z.object({ host: z.string() }), run: async ({ host }) => ({ pong: host }) });
 * ```
 */
export interface ConnectorAction<I = unknown> {
  readonly id: string;
  readonly input: z.ZodType<I>;
  /** When true, a request without a secret fails with `SECRET_REQUIRED` before `run` is called. */
  readonly requiresSecret?: boolean;
  run(input: I, ctx: ConnectorActionContext): Promise<unknown>;
}

/**
 * A connector: an id (as used in `connector.action` payloads and reported in `hello`) and its actions.
 *
 * @example
 * ```ts
 * const myConnector = defineConnector({ id: 'acme', actions: [ping] });
 * ```
 */
export interface Connector {
  readonly id: string;
  readonly actions: readonly ConnectorAction<never>[];
}

/**
 * Identity helper that keeps the input type of an action's `run` tied to its schema.
 *
 * @example
 * ```ts
 * defineAction({ id: 'echo', input: z.object({ text: z.string() }), run: async ({ text }) => ({ text }) });
 * ```
 */
export function defineAction<I>(action: ConnectorAction<I>): ConnectorAction<I> {
  return action;
}

/**
 * Identity helper for a connector definition (validates ids eagerly).
 *
 * @example
 * ```ts
 * export const acme = defineConnector({ id: 'acme', actions: [echo] });
 * ```
 */
export function defineConnector(connector: { id: string; actions: readonly ConnectorAction<never>[] }): Connector {
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(connector.id)) throw new AgentError('AGENT_CONFIG_INVALID', `invalid connector id "${connector.id}"`);
  const seen = new Set<string>();
  for (const a of connector.actions) {
    if (seen.has(a.id)) throw new AgentError('AGENT_CONFIG_INVALID', `connector ${connector.id} declares action ${a.id} twice`);
    seen.add(a.id);
  }
  return connector;
}

/**
 * A lookup of connectors by id, extended by plugin authors with `register`.
 *
 * @example
 * ```ts
 * const registry = createConnectorRegistry([httpConnector()]);
 * registry.register(myConnector);
 * ```
 */
export interface ConnectorRegistry {
  register(connector: Connector): void;
  get(connectorId: string): Connector | undefined;
  action(connectorId: string, actionId: string): ConnectorAction<unknown> | undefined;
  ids(): string[];
}

/**
 * Creates a {@link ConnectorRegistry}; registering an id twice is a configuration error.
 *
 * @example
 * ```ts
 * const registry = createConnectorRegistry([httpConnector(), githubConnector()]);
 * registry.register(acmeConnector);
 * ```
 */
export function createConnectorRegistry(connectors: readonly Connector[] = []): ConnectorRegistry {
  const byId = new Map<string, Connector>();
  const registry: ConnectorRegistry = {
    register(connector) {
      if (byId.has(connector.id)) throw new AgentError('AGENT_CONFIG_INVALID', `connector ${connector.id} is registered twice`);
      byId.set(connector.id, defineConnector(connector));
    },
    get: (id) => byId.get(id),
    action(connectorId, actionId) {
      return byId.get(connectorId)?.actions.find((a) => a.id === actionId) as ConnectorAction<unknown> | undefined;
    },
    ids: () => [...byId.keys()],
  };
  for (const c of connectors) registry.register(c);
  return registry;
}
