import { actionNotSupported, BuiltinKinds, ConnectorActionPayloadSchema, formatZodIssues } from '@vespid/protocol';
import { type Connector, type ConnectorRegistry, createConnectorRegistry } from './connectors/registry.js';
import { AgentError, toErrorInfo } from './errors.js';
import type { Executor, ExecutorResult } from './executor.js';

/**
 * Options of {@link connectorActionExecutor}.
 *
 * @example
 * ```ts
 * connectorActionExecutor({ connectors: createConnectorRegistry([httpConnector()]) });
 * ```
 */
export interface ConnectorActionExecutorOptions {
  /** Connectors to serve, or a registry that plugin authors extend. */
  connectors: readonly Connector[] | ConnectorRegistry;
}

function fail(err: AgentError): ExecutorResult {
  return { status: 'failed', error: toErrorInfo(err) };
}

/**
 * The built-in executor for `connector.action`: looks up `payload.connectorId` / `payload.actionId`
 * in the registry, validates `payload.input` with the action's zod schema, enforces `requiresSecret`,
 * and runs the action with the request's secret (in memory, for this request only).
 * Errors: `CONNECTOR_NOT_FOUND`, `ACTION_NOT_SUPPORTED:<connector>:<action>`, `INVALID_ACTION_INPUT`,
 * `SECRET_REQUIRED`, plus the connector's own codes.
 *
 * @example
 * ```ts
 * const agent = createAgent({
 *   ...config,
 *   executors: [connectorActionExecutor({ connectors: [httpConnector(), githubConnector()] })],
 * });
 * ```
 */
export function connectorActionExecutor(options: ConnectorActionExecutorOptions): Executor {
  const registry = Array.isArray(options.connectors)
    ? createConnectorRegistry(options.connectors as readonly Connector[])
    : (options.connectors as ConnectorRegistry);
  return {
    kind: BuiltinKinds.connectorAction,
    get connectors() {
      return registry.ids();
    },
    async execute(task, ctx) {
      const payload = ConnectorActionPayloadSchema.safeParse(task.payload);
      if (!payload.success) {
        return fail(new AgentError('INVALID_ACTION_INPUT', `invalid connector.action payload: ${formatZodIssues(payload.error)}`));
      }
      const { connectorId, actionId, input } = payload.data;
      if (!registry.get(connectorId)) {
        return fail(new AgentError('CONNECTOR_NOT_FOUND', `connector ${connectorId} is not installed on this agent`));
      }
      const action = registry.action(connectorId, actionId);
      if (!action)
        return fail(new AgentError(actionNotSupported(connectorId, actionId), `connector ${connectorId} has no action ${actionId}`));
      const parsed = action.input.safeParse(input);
      if (!parsed.success) {
        return fail(new AgentError('INVALID_ACTION_INPUT', `${connectorId}:${actionId} input invalid: ${formatZodIssues(parsed.error)}`));
      }
      if (action.requiresSecret && !ctx.secret) {
        return fail(new AgentError('SECRET_REQUIRED', `${connectorId}:${actionId} requires a secret and the request carried none`));
      }
      try {
        const output = await action.run(parsed.data, { secret: ctx.secret, signal: ctx.signal, logger: ctx.logger });
        return { status: 'succeeded', output };
      } catch (err) {
        // Connector codes pass through; anything else (a bug in a plugin) becomes INTERNAL_ERROR.
        return { status: 'failed', error: toErrorInfo(err) };
      }
    },
  };
}

/**
 * The `agent.execute` executor registered when no sandbox backend is configured
 * (`VESPID_AGENT_EXEC_BACKEND` unset): every task fails with `SANDBOX_BACKEND_NOT_CONFIGURED`.
 * The agent never runs shell tasks on the host.
 *
 * @example
 * ```ts
 * const executors = [backend === 'docker' ? dockerSandboxExecutor(opts) : sandboxNotConfiguredExecutor()];
 * ```
 */
export function sandboxNotConfiguredExecutor(): Executor {
  return {
    kind: BuiltinKinds.agentExecute,
    async execute() {
      return fail(
        new AgentError(
          'SANDBOX_BACKEND_NOT_CONFIGURED',
          'agent.execute needs a sandbox backend; set VESPID_AGENT_EXEC_BACKEND=docker on the agent (host execution is not supported)',
        ),
      );
    },
  };
}
