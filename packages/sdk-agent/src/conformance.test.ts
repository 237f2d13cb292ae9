import { connectorActionExecutor, sandboxNotConfiguredExecutor } from './connector-executor.js';
import { httpConnector } from './connectors/http.js';
import { localServer } from '../test/test-http-server.js';
import { executorConformance } from './testing/index.js';

// The built-in executors pass the same suite plugin authors run on theirs.
executorConformance({
  name: 'connectorActionExecutor (http)',
  create: () => connectorActionExecutor({ connectors: [httpConnector({ timeoutMs: 30_000 })] }),
  async setup() {
    const srv = await localServer((req, _body, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('late'), 10_000).unref();
      else res.end('ok');
    });
    return {
      ok: { payload: { connectorId: 'http', actionId: 'request', input: { url: `${srv.url}/ok` } } },
      slow: { payload: { connectorId: 'http', actionId: 'request', input: { url: `${srv.url}/slow` } } },
      teardown: srv.close,
    };
  },
});

executorConformance({
  name: 'sandboxNotConfiguredExecutor',
  create: () => sandboxNotConfiguredExecutor(),
  setup: () => ({}),
});
