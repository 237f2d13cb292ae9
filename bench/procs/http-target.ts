/**
 * Scenario w: the HTTP target every workflow node calls, in its own process so its CPU is left out of
 * both modes. It answers at once: what is measured is the cost of the node, not of the work.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '../lib/rpc.js';

const server = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end('{"ok":true}');
});

serve({
  async listen() {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  },
  stop() {
    server.closeAllConnections();
    server.close();
    setImmediate(() => process.exit(0));
    return true;
  },
});
