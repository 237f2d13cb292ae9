import { z } from 'zod';
import { LIMITS } from './constants.js';
import { ConnectorIdSchema, SelectorSchema, TimeoutMsSchema } from './primitives.js';

/**
 * Where a workflow node runs: in the cloud worker, or on a node-agent (optionally targeted by
 * `selector.agentId`, `selector.tag` or `selector.group`, the latter matching tag `group:<name>`).
 *
 * @example
 * ```ts
 * ExecutionConfigSchema.parse({ mode: 'node', selector: { group: 'alpha' } });
 * ```
 */
export const ExecutionConfigSchema = z.strictObject({
  mode: z.enum(['cloud', 'node']).default('cloud'),
  selector: SelectorSchema.optional(),
});
/**
 * @example
 * ```ts
 * const execution: ExecutionConfig = { mode: 'node' };
 * ```
 */
export type ExecutionConfig = z.infer<typeof ExecutionConfigSchema>;

/**
 * Payload of a `connector.action` request. The gateway routes by `connectorId`.
 *
 * @example
 * ```ts
 * ConnectorActionPayloadSchema.parse({ connectorId: 'http', actionId: 'request', input: { url } });
 * ```
 */
export const ConnectorActionPayloadSchema = z.strictObject({
  connectorId: ConnectorIdSchema,
  actionId: z.string().min(1).max(128),
  input: z.unknown(),
});
/**
 * @example
 * ```ts
 * const payload: ConnectorActionPayload = { connectorId: 'github', actionId: 'issue.create', input: { repo, title } };
 * ```
 */
export type ConnectorActionPayload = z.infer<typeof ConnectorActionPayloadSchema>;

const envKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid env name');

/**
 * The shell task of an `agent.execute` node.
 *
 * @example
 * ```ts
 * ShellTaskSchema.parse({ type: 'shell', script: 'echo hello' });
 * ```
 */
export const ShellTaskSchema = z.strictObject({
  type: z.literal('shell'),
  script: z
    .string()
    .min(1)
    .max(256 * 1024),
  shell: z.string().min(1).max(256).optional(),
  env: z.record(envKey, z.string().max(64 * 1024)).optional(),
});
/**
 * @example
 * ```ts
 * const task: ShellTask = ShellTaskSchema.parse({ type: 'shell', script: 'ls /work' });
 * ```
 */
export type ShellTask = z.infer<typeof ShellTaskSchema>;

/**
 * Sandbox options of an `agent.execute` node. The agent operator's limits always win.
 *
 * @example
 * ```ts
 * SandboxConfigSchema.parse({ network: 'none', envPassthroughAllowlist: ['OPENAI_API_KEY'] });
 * ```
 */
export const SandboxConfigSchema = z.strictObject({
  network: z.enum(['none', 'bridge']).optional(),
  timeoutMs: TimeoutMsSchema.optional(),
  docker: z.strictObject({ image: z.string().min(1).max(512).optional() }).optional(),
  envPassthroughAllowlist: z.array(envKey).max(64).optional(),
});
/**
 * @example
 * ```ts
 * const sandbox: SandboxConfig = SandboxConfigSchema.parse({ network: 'bridge' });
 * ```
 */
export type SandboxConfig = z.infer<typeof SandboxConfigSchema>;

/**
 * Payload of an `agent.execute` request. `run` locates the per-run workdir on the agent.
 *
 * @example
 * ```ts
 * const payload = AgentExecutePayloadSchema.parse(task.payload);
 * ```
 */
export const AgentExecutePayloadSchema = z.strictObject({
  task: ShellTaskSchema,
  sandbox: SandboxConfigSchema.optional(),
  run: z
    .strictObject({
      runId: z.string().min(1).max(LIMITS.idLength),
      nodeId: z.string().min(1).max(LIMITS.idLength),
      attempt: z.number().int().min(0).max(1000),
    })
    .optional(),
});
/**
 * @example
 * ```ts
 * const payload: AgentExecutePayload = AgentExecutePayloadSchema.parse(task.payload);
 * ```
 */
export type AgentExecutePayload = z.infer<typeof AgentExecutePayloadSchema>;

/**
 * The built-in node kinds.
 *
 * @example
 * ```ts
 * await gateway.dispatch({ organizationId, requestId, kind: BuiltinKinds.connectorAction, payload });
 * ```
 */
export const BuiltinKinds = {
  connectorAction: 'connector.action',
  agentExecute: 'agent.execute',
} as const;
