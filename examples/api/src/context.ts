import type { Kek, Pool } from '@vespid/example-db';
import type { Logger } from '@vespid/protocol';
import type { ApiConfig } from './config.js';
import type { ControlBus } from './control-bus.js';
import type { LiveSessionSource } from './live-sessions.js';
import type { RunQueue } from './run-queue.js';

/** What every route module receives: resolved config and the injected seams. */
export interface AppContext {
  pool: Pool;
  logger: Logger;
  config: ApiConfig;
  controlBus: ControlBus;
  runQueue: RunQueue;
  /** KEK used to encrypt new secret values. */
  kek: Kek;
  /** Live session data from the gateway for the agents list; absent = not configured. */
  liveSessions?: LiveSessionSource;
}
