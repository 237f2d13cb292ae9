// The operator's path, against the packed tarballs: the `vespid-agent` bin (given as argv[2]: the npm -g
// bin or an npx wrapper) pairs with a stub control plane, connects to a real gateway (the packed
// @vespid/sdk-gateway), runs a connector.action, says status, drains on SIGTERM and removes itself.
// Exits non-zero on failure.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateToken } from '@vespid/protocol';
import { createGateway, staticAuthenticator } from '@vespid/sdk-gateway';

const bin = process.argv.slice(2);
// Async on purpose: the stub control plane and the gateway live in this very process.
const run = promisify(execFile);
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const auth = staticAuthenticator([]);
const gateway = createGateway({ authenticator: auth, serviceToken: 'pack-check-agent' });
const gwServer = createServer(gateway.httpHandler);
gateway.attach(gwServer, { path: '/ws' });
const wsUrl = `ws://127.0.0.1:${await listen(gwServer)}/ws`;
const deregistered = [];
const api = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/agents/deregister') {
      deregistered.push(req.headers.authorization);
      return res.end('{"status":"revoked"}');
    }
    const agentToken = generateToken('acme');
    auth.set({ token: agentToken, agentId: 'edge-1', organizationId: 'acme', tags: [] });
    res.statusCode = 201;
    res.end(JSON.stringify({ agentId: 'edge-1', agentToken, organizationId: 'acme', gatewayWsUrl: wsUrl }));
  });
});
const apiBase = `http://127.0.0.1:${await listen(api)}`;
const target = createServer((_req, res) => res.end('{"ok":true}'));
const targetUrl = `http://127.0.0.1:${await listen(target)}/`;

const home = mkdtempSync(join(tmpdir(), 'vespid-pack-agent-'));
const env = { PATH: process.env.PATH, HOME: home };
// npx keeps its cache under HOME: share the user's so the registry is not asked again for every run.
if (process.env.HOME) env.npm_config_cache = join(process.env.HOME, '.npm');
const t0 = Date.now();
const child = spawn(bin[0], [...bin.slice(1), 'connect', '--api-base', apiBase, '--name', 'pack-check'], {
  env: { ...env, VESPID_PAIRING_TOKEN: generateToken('acme') },
  stdio: ['ignore', 'pipe', 'pipe'],
  // Own process group: npx does not forward SIGTERM to the bin it runs.
  detached: true,
});
let out = '';
child.stdout.on('data', (d) => (out += d));
child.stderr.on('data', (d) => (out += d));
const exited = new Promise((resolve) => child.on('close', resolve));
const deadline = Date.now() + 60_000;
while (!/connected as pack-check \(edge-1\)/.test(out)) {
  if (Date.now() > deadline || child.exitCode !== null) throw new Error(`agent did not connect:\n${out}`);
  await new Promise((r) => setTimeout(r, 50));
}
const connectedMs = Date.now() - t0;
const result = await gateway.dispatch({
  organizationId: 'acme',
  requestId: 'pack:agent:0',
  kind: 'connector.action',
  payload: { connectorId: 'http', actionId: 'request', input: { url: targetUrl, method: 'GET' } },
  timeoutMs: 10_000,
});
assert.equal(result.status, 'succeeded', JSON.stringify(result));
process.kill(-child.pid, 'SIGTERM');
const code = await exited;
// Under npx the exit status is npx's own (it dies on the signal); the agent's last line says it drained.
if (bin[0] !== 'npx') assert.equal(code, 0, out);
assert.match(out, /agent stopped/);
const status = JSON.parse((await run(bin[0], [...bin.slice(1), 'status', '--json'], { env })).stdout);
assert.equal(status.agentId, 'edge-1');
assert.ok(status.lastConnectedAt);
await run(bin[0], [...bin.slice(1), 'remove'], { env });
assert.equal(deregistered.length, 1);
await gateway.close({ timeoutMs: 1000 });
for (const s of [gwServer, api, target]) {
  s.closeAllConnections();
  s.close();
}
process.stdout.write(
  `node-agent via ${bin
    .join(' ')
    .replace(/--package \S+/g, '')
    .trim()}: paired, connected in ${connectedMs} ms, ran a connector.action, status, remove: ok\n`,
);
