/** A tiny local HTTP service the demo's remote `connector.action` node calls (no internet needed). */
import { createServer, type Server } from 'node:http';

export interface SampleService {
  url: string;
  hits: number;
  close(): Promise<void>;
}

export async function startSampleService(): Promise<SampleService> {
  const state = { hits: 0 };
  const server: Server = createServer((req, res) => {
    state.hits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ message: 'hello from a service inside the customer network', path: req.url, at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get hits() {
      return state.hits;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
