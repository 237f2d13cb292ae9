/** Baseline of scenario a: a raw `ws` echo server in its own process (no deflate, like the gateway). */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '../lib/deps.js';
import { serve } from '../lib/rpc.js';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
wss.on('listening', () => {
  const { port } = wss.address() as AddressInfo;
  serve(
    {
      stop() {
        for (const c of wss.clients) c.terminate();
        wss.close();
        setImmediate(() => process.exit(0));
        return true;
      },
    },
    { url: `ws://127.0.0.1:${port}` },
  );
});
