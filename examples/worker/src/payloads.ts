import type { Selector } from '@vespid/protocol';
import type { WorkflowNode } from '@vespid/example-api';

/** What a node sends: the protocol payload for its kind, plus where it runs. */
export interface NodeRequest {
  kind: WorkflowNode['type'];
  payload: unknown;
  mode: 'cloud' | 'node';
  selector: Selector | undefined;
  timeoutMs: number | undefined;
  secretId: string | undefined;
}

/** Maps a DSL node to its request. The secret is referenced by id only; it is decrypted just before use. */
export function nodeRequest(node: WorkflowNode, run: { runId: string; attempt: number }): NodeRequest {
  const execution = node.config.execution;
  const base = { mode: execution?.mode ?? 'cloud', selector: execution?.selector } as const;
  if (node.type === 'connector.action') {
    const { connectorId, actionId, input, auth, timeoutMs } = node.config;
    return { ...base, kind: node.type, payload: { connectorId, actionId, input }, timeoutMs, secretId: auth?.secretId };
  }
  const { task, sandbox } = node.config;
  return {
    ...base,
    kind: node.type,
    payload: { task, ...(sandbox ? { sandbox } : {}), run: { runId: run.runId, nodeId: node.id, attempt: run.attempt } },
    // The sandbox timeout bounds the container; the node gets a little more so the agent's own timeout error wins.
    timeoutMs: sandbox?.timeoutMs ? sandbox.timeoutMs + 5_000 : undefined,
    secretId: undefined,
  };
}
