import type { Logger } from '@vespid/protocol';
import type { AgentAuthenticator, Gateway, SelectionStrategy } from '@vespid/sdk-gateway';

/**
 * What every embedding example takes: how agents authenticate, the worker's service token, and where
 * to listen (`port: 0` picks a free port).
 *
 * @example
 * ```ts
 * const options: EmbedOptions = { authenticator, serviceToken: process.env.GATEWAY_SERVICE_TOKEN ?? '', port: 3002 };
 * ```
 */
export interface EmbedOptions {
  authenticator: AgentAuthenticator;
  serviceToken: string;
  /** @default 3002 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  selection?: SelectionStrategy;
  logger?: Logger;
}

/**
 * A running host with the gateway mounted in it.
 *
 * @example
 * ```ts
 * const { httpUrl, wsUrl, close } = await startFastifyApp(options);
 * ```
 */
export interface EmbeddedGateway {
  gateway: Gateway;
  /** Base URL of the internal dispatch API (`GATEWAY_HTTP_URL` of the worker). */
  httpUrl: string;
  /** Where agents connect (`GATEWAY_WS_URL`). */
  wsUrl: string;
  /** Drains the gateway (agents get `drain`), then closes the server. */
  close(): Promise<void>;
}
