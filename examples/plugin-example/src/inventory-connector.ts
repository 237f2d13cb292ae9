// #region connector
import { AgentError, type Connector, defineAction, defineConnector } from '@vespid/sdk-agent';
import { z } from 'zod';

/**
 * Options of {@link inventoryConnector}.
 *
 * @example
 * ```ts
 * const options: InventoryConnectorOptions = { baseUrl: 'http://inventory.internal:8080' };
 * ```
 */
export interface InventoryConnectorOptions {
  /** Base URL of the customer's private inventory API (reachable only from inside their network). */
  baseUrl: string;
  /** Per-call timeout in ms, on top of the task's own signal. @default 10000 */
  timeoutMs?: number;
}

/**
 * A custom connector `inventory` with two actions against a private HTTP API:
 * `getItem {sku}` → the item, and `reserve {sku, quantity}` → the reservation. Both need the node's
 * secret (an API key), sent as a bearer token and never logged or returned.
 *
 * @example
 * ```ts
 * connectorActionExecutor({ connectors: [httpConnector(), inventoryConnector({ baseUrl })] });
 * ```
 */
export function inventoryConnector(options: InventoryConnectorOptions): Connector {
  const base = new URL(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function call(path: string, init: { method: string; body?: unknown; secret: string; signal: AbortSignal }) {
    const signal = AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]);
    let res: Response;
    try {
      res = await fetch(new URL(path, base), {
        method: init.method,
        headers: { authorization: `Bearer ${init.secret}`, 'content-type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal,
      });
    } catch (err) {
      if (init.signal.aborted) throw new AgentError('TASK_CANCELLED', 'inventory call aborted');
      throw new AgentError('HTTP_REQUEST_FAILED', `inventory API unreachable: ${(err as Error).name}`, { retryable: true });
    }
    if (res.status === 404) throw new AgentError('NOT_FOUND', `inventory: ${path} not found`);
    if (!res.ok) throw new AgentError('HTTP_REQUEST_FAILED', `inventory API answered ${res.status}`, { retryable: res.status >= 500 });
    return (await res.json()) as unknown;
  }

  const sku = z.string().regex(/^[A-Z0-9-]{1,64}$/);
  const getItem = defineAction({
    id: 'getItem',
    input: z.strictObject({ sku }),
    requiresSecret: true,
    run: ({ sku }, { secret, signal }) => call(`/items/${sku}`, { method: 'GET', secret: secret ?? '', signal }),
  });
  const reserve = defineAction({
    id: 'reserve',
    input: z.strictObject({ sku, quantity: z.number().int().min(1).max(10_000) }),
    requiresSecret: true,
    run: ({ sku, quantity }, { secret, signal }) =>
      call(`/items/${sku}/reservations`, { method: 'POST', body: { quantity }, secret: secret ?? '', signal }),
  });
  // `actions` holds actions of different input types; each one's input is checked by its own schema.
  return defineConnector({ id: 'inventory', actions: [getItem as never, reserve as never] });
}
// #endregion connector
