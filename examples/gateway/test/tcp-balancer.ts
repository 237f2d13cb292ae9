import { type Server, type Socket, connect, createServer } from 'node:net';

/** A round-robin TCP load balancer on 127.0.0.1:0 that skips backends refusing connections. */
export interface TcpBalancer {
  port: number;
  close(): Promise<void>;
}

/**
 * Stands in for the load balancer in front of gateway replicas: agents keep one URL, and when a
 * replica dies their reconnects land on the others.
 */
export async function startTcpBalancer(backends: () => number[]): Promise<TcpBalancer> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const ports = backends();
    let tries = 0;
    const attempt = () => {
      if (tries++ >= ports.length || client.destroyed) return client.destroy();
      const port = ports[next++ % ports.length]!;
      const upstream = connect({ host: '127.0.0.1', port });
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        client.on('close', () => upstream.destroy());
        upstream.on('error', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        if (connected) return;
        if (err.code === 'ECONNREFUSED') attempt();
        else client.destroy();
      });
    };
    attempt();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
