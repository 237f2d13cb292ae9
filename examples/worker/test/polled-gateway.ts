/**
 * A stand-in for the gateway's two routes the worker's continuation uses when results are found by
 * polling: `POST /internal/v1/dispatch-async` (accepted at once) and `GET /internal/v1/results/:id`.
 * Shared by the worker's integration tests, which differ only in what a result looks like and when
 * it is ready.
 */
import { type Server, createServer } from 'node:http';

export interface PolledGateway {
  url: string;
  close(): Promise<void>;
}

export interface PolledGatewayOptions {
  /** Called for every accepted dispatch (repeats of a request id included). */
  onDispatch(requestId: string): void;
  /** The stored result of `requestId`, or null while it is not ready (answered 404 RESULT_NOT_READY). */
  result(requestId: string): Record<string, unknown> | null;
}

export async function startPolledGateway(options: PolledGatewayOptions): Promise<PolledGateway> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.method === 'POST' && req.url === '/internal/v1/dispatch-async') {
        const { requestId } = JSON.parse(body) as { requestId: string };
        options.onDispatch(requestId);
        return json(201, { requestId, dispatched: true });
      }
      const id = decodeURIComponent(/^\/internal\/v1\/results\/(.+)$/.exec(req.url ?? '')?.[1] ?? '');
      const result = id ? options.result(id) : null;
      if (!result) return json(404, { code: 'RESULT_NOT_READY', message: 'not yet' });
      return json(200, result);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
