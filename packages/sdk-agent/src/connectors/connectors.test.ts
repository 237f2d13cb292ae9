import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectorActionExecutor } from '../connector-executor.js';
import type { ExecutorResult } from '../executor.js';
import { localServer } from '../../test/test-http-server.js';
import { capturingLogger } from '../testing/index.js';
import { githubConnector } from './github.js';
import { httpConnector } from './http.js';
import { createConnectorRegistry, defineAction, defineConnector } from './registry.js';

const GH_TOKEN = 'ghp_canary_token_value_0123456789';

function run(executor: ReturnType<typeof connectorActionExecutor>, payload: unknown, secret?: string, signal?: AbortSignal) {
  return executor.execute(
    { requestId: 'r', organizationId: 'o', kind: 'connector.action', payload, timeoutMs: 10_000 },
    { signal: signal ?? new AbortController().signal, logger: capturingLogger(), secret, deadline: Date.now() + 10_000 },
  );
}

describe('http connector against a local HTTP server', () => {
  let srv: Awaited<ReturnType<typeof localServer>>;
  const seen: { auth?: string; body?: string; method?: string } = {};
  beforeAll(async () => {
    srv = await localServer((req, body, res) => {
      seen.auth = req.headers.authorization;
      seen.body = body;
      seen.method = req.method;
      if (req.url === '/json') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ hello: 'world' }));
      } else if (req.url === '/big') {
        res.end('x'.repeat(5000));
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 3000);
      } else {
        res.statusCode = 418;
        res.setHeader('x-test', 'yes');
        res.end('teapot');
      }
    });
  });
  afterAll(() => srv.close());

  const exec = connectorActionExecutor({ connectors: [httpConnector({ maxResponseBytes: 1000, timeoutMs: 500 })] });

  it('returns status, headers and body (non-2xx is a result, not an error)', async () => {
    const r = await run(exec, { connectorId: 'http', actionId: 'request', input: { method: 'GET', url: `${srv.url}/x` } });
    expect(r).toMatchObject({ status: 'succeeded', output: { status: 418, body: 'teapot', headers: { 'x-test': 'yes' } } });
  });

  it('sends JSON bodies, parses JSON responses and uses the secret as bearer', async () => {
    const r = await run(
      exec,
      { connectorId: 'http', actionId: 'request', input: { method: 'POST', url: `${srv.url}/json`, body: { a: 1 } } },
      'tok-1234',
    );
    expect(r).toMatchObject({ status: 'succeeded', output: { status: 200, json: { hello: 'world' } } });
    expect(seen).toMatchObject({ method: 'POST', body: '{"a":1}', auth: 'Bearer tok-1234' });
  });

  it('caps the response size and times out', async () => {
    const big = await run(exec, { connectorId: 'http', actionId: 'request', input: { url: `${srv.url}/big` } });
    expect(big).toMatchObject({ status: 'failed', error: { code: 'HTTP_RESPONSE_TOO_LARGE' } });
    const slow = await run(exec, { connectorId: 'http', actionId: 'request', input: { url: `${srv.url}/slow` } });
    expect(slow).toMatchObject({ status: 'failed', error: { code: 'HTTP_REQUEST_FAILED' } });
    expect((slow as Extract<ExecutorResult, { status: 'failed' }>).error.message).toMatch(/timed out/);
  });

  it('reports network failures as HTTP_REQUEST_FAILED', async () => {
    const r = await run(exec, { connectorId: 'http', actionId: 'request', input: { url: 'http://127.0.0.1:1/' } });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'HTTP_REQUEST_FAILED' } });
  });
});

describe('github connector against a local stub API', () => {
  let srv: Awaited<ReturnType<typeof localServer>>;
  beforeAll(async () => {
    srv = await localServer((req, body, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== `Bearer ${GH_TOKEN}`) {
        res.statusCode = 401;
        return res.end(JSON.stringify({ message: 'Bad credentials' }));
      }
      const m = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        res.statusCode = 404;
        return res.end(JSON.stringify({ message: 'Not Found' }));
      }
      const issue = JSON.parse(body);
      res.statusCode = 201;
      res.end(
        JSON.stringify({
          id: 99,
          number: 7,
          title: issue.title,
          html_url: `https://gh.local/${m[1]}/${m[2]}/issues/7`,
          url: `${srv.url}/x`,
        }),
      );
    });
  });
  afterAll(() => srv.close());

  const exec = () => connectorActionExecutor({ connectors: [githubConnector({ apiBaseUrl: `${srv.url}/api/v3` })] });
  const payload = {
    connectorId: 'github',
    actionId: 'issue.create',
    input: { owner: 'acme', repo: 'app', title: 'Broken', body: 'details' },
  };

  it('creates an issue with the secret as bearer token', async () => {
    const r = await run(exec(), payload, GH_TOKEN);
    expect(r).toMatchObject({ status: 'succeeded', output: { id: 99, number: 7, url: 'https://gh.local/acme/app/issues/7' } });
  });

  it('maps a refused token to GITHUB_API_ERROR without leaking it', async () => {
    const r = await run(exec(), payload, 'wrong-token-value');
    expect(r).toMatchObject({ status: 'failed', error: { code: 'GITHUB_API_ERROR', details: { status: 401 } } });
    expect(JSON.stringify(r)).not.toContain('wrong-token-value');
  });

  it('requires a secret', async () => {
    expect(await run(exec(), payload)).toMatchObject({ status: 'failed', error: { code: 'SECRET_REQUIRED' } });
  });
});

describe('connectorActionExecutor errors and registry', () => {
  const exec = connectorActionExecutor({ connectors: [httpConnector(), githubConnector()] });

  it('reports connectors in hello order and the documented codes', async () => {
    expect(exec.connectors).toEqual(['http', 'github']);
    expect(await run(exec, { connectorId: 'http', actionId: 'delete_everything', input: {} })).toMatchObject({
      error: { code: 'ACTION_NOT_SUPPORTED:http:delete_everything' },
    });
    expect(await run(exec, { connectorId: 'slack', actionId: 'post', input: {} })).toMatchObject({
      error: { code: 'CONNECTOR_NOT_FOUND' },
    });
    const bad = await run(exec, { connectorId: 'http', actionId: 'request', input: { url: 'ftp://x', method: 'BREW' } });
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'INVALID_ACTION_INPUT' } });
    expect(await run(exec, 'not an object')).toMatchObject({ error: { code: 'INVALID_ACTION_INPUT' } });
  });

  it('lets plugin authors register connectors with their own codes', async () => {
    const registry = createConnectorRegistry([httpConnector()]);
    const shout = defineAction({
      id: 'shout',
      input: z.object({ text: z.string() }),
      async run({ text }) {
        if (text === 'boom') {
          const { AgentError } = await import('../errors.js');
          throw new AgentError('HTTP_REQUEST_FAILED', 'custom failure');
        }
        return { text: text.toUpperCase() };
      },
    });
    registry.register(defineConnector({ id: 'acme', actions: [shout as never] }));
    const e = connectorActionExecutor({ connectors: registry });
    expect(e.connectors).toEqual(['http', 'acme']);
    expect(await run(e, { connectorId: 'acme', actionId: 'shout', input: { text: 'hi' } })).toEqual({
      status: 'succeeded',
      output: { text: 'HI' },
    });
    expect(await run(e, { connectorId: 'acme', actionId: 'shout', input: { text: 'boom' } })).toMatchObject({
      error: { code: 'HTTP_REQUEST_FAILED', message: 'custom failure' },
    });
    expect(() => registry.register(defineConnector({ id: 'acme', actions: [] }))).toThrow(/registered twice/);
  });
});
