/**
 * The workflow DSL (JSON): `{version: 1, trigger: {type: "trigger.manual"}, nodes: [{id, type, config}]}`.
 * Node configs reuse the protocol's payload schemas, so what the api accepts is exactly what the
 * worker can dispatch. The worker imports {@link WorkflowDslSchema} to parse published versions.
 */
import {
  ConnectorActionPayloadSchema,
  ExecutionConfigSchema,
  SandboxConfigSchema,
  ShellTaskSchema,
  TimeoutMsSchema,
} from '@vespid/protocol';
import { z } from 'zod';

/**
 * Node ids end up in request ids `runId:nodeId:attempt` and workdir paths: no ':' '/' or dots.
 *
 * @example
 * ```ts
 * NodeIdSchema.parse('fetch-users');
 * ```
 */
export const NodeIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'must be letters, digits, _ and - only');

/** `auth` of a connector.action node: the connector secret to decrypt for this call. @example `{ secretId: '6f1c…' }` */
export const NodeAuthSchema = z.strictObject({ secretId: z.uuid() });

/**
 * Config of a `connector.action` node: `{connectorId, actionId, input, auth?: {secretId}, timeoutMs?, execution?}`.
 * `connectorId` is required (the gateway routes by it). `timeoutMs` bounds one attempt of the node
 * (default: the worker's NODE_EXEC_TIMEOUT_MS).
 *
 * @example
 * ```ts
 * ConnectorActionConfigSchema.parse({ connectorId: 'http', actionId: 'request', input: { url }, execution: { mode: 'node' } });
 * ```
 */
export const ConnectorActionConfigSchema = z.strictObject({
  connectorId: ConnectorActionPayloadSchema.shape.connectorId,
  actionId: ConnectorActionPayloadSchema.shape.actionId,
  input: z.unknown(),
  auth: NodeAuthSchema.optional(),
  timeoutMs: TimeoutMsSchema.optional(),
  execution: ExecutionConfigSchema.optional(),
});

/**
 * Config of an `agent.execute` node: `{task: {type: "shell", script, shell?, env?}, sandbox?, execution?}`.
 *
 * @example
 * ```ts
 * AgentExecuteConfigSchema.parse({ task: { type: 'shell', script: 'echo hi' }, execution: { mode: 'node' } });
 * ```
 */
export const AgentExecuteConfigSchema = z.strictObject({
  task: ShellTaskSchema,
  sandbox: SandboxConfigSchema.optional(),
  execution: ExecutionConfigSchema.optional(),
});

/**
 * One workflow node.
 *
 * @example
 * ```ts
 * const node = WorkflowNodeSchema.parse({ id: 'n1', type: 'agent.execute', config: { task: { type: 'shell', script: 'id' } } });
 * ```
 */
export const WorkflowNodeSchema = z.discriminatedUnion('type', [
  z.strictObject({ id: NodeIdSchema, type: z.literal('connector.action'), config: ConnectorActionConfigSchema }),
  z.strictObject({ id: NodeIdSchema, type: z.literal('agent.execute'), config: AgentExecuteConfigSchema }),
]);

/**
 * The workflow DSL. Node ids must be unique; nodes run in order.
 *
 * @example
 * ```ts
 * const dsl = WorkflowDslSchema.parse({
 *   version: 1,
 *   trigger: { type: 'trigger.manual' },
 *   nodes: [{ id: 'hello', type: 'agent.execute', config: { task: { type: 'shell', script: 'echo hi' }, execution: { mode: 'node' } } }],
 * });
 * ```
 */
export const WorkflowDslSchema = z
  .strictObject({
    version: z.literal(1),
    trigger: z.strictObject({ type: z.literal('trigger.manual') }),
    nodes: z.array(WorkflowNodeSchema).min(1).max(200),
  })
  .superRefine((dsl, ctx) => {
    const seen = new Set<string>();
    dsl.nodes.forEach((node, index) => {
      if (seen.has(node.id)) ctx.addIssue({ code: 'custom', path: ['nodes', index, 'id'], message: `duplicate node id "${node.id}"` });
      seen.add(node.id);
    });
  });

/** A parsed workflow. */
export type WorkflowDsl = z.infer<typeof WorkflowDslSchema>;
/** A parsed node. */
export type WorkflowNode = z.infer<typeof WorkflowNodeSchema>;
/** A parsed connector.action config. */
export type ConnectorActionConfig = z.infer<typeof ConnectorActionConfigSchema>;
/** A parsed agent.execute config. */
export type AgentExecuteConfig = z.infer<typeof AgentExecuteConfigSchema>;
