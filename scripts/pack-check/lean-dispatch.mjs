// A dispatch-client-only worker: @vespid/protocol + @vespid/sdk-dispatch installed from the tarballs,
// without ioredis, bullmq or pg (optional peers). The root entry must load and work (ESM and CJS), and
// the Redis parts must fail with OPTIONAL_DEPENDENCY_MISSING naming the packages to install. Run from
// the scratch project by pack-check.sh; exits non-zero on failure.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

for (const pkg of ['ioredis', 'bullmq', 'pg']) {
  assert.equal(existsSync(`node_modules/${pkg}`), false, `${pkg} was installed although it is an optional peer`);
}

const esm = await import('@vespid/sdk-dispatch');
const cjs = createRequire(import.meta.url)('@vespid/sdk-dispatch');

// A gateway stand-in that knows one finished request.
const serviceToken = 'lean-dispatch-token';
const server = createServer((req, res) => {
  const found = req.url === '/internal/v1/results/run-1%3An%3A0';
  const body = found
    ? { requestId: 'run-1:n:0', organizationId: 'acme', status: 'succeeded', output: { ok: true }, completedAt: Date.now() }
    : { code: 'RESULT_NOT_READY', message: 'not ready' };
  res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const gatewayHttpUrl = `http://127.0.0.1:${server.address().port}`;
try {
  for (const [format, lib] of [
    ['esm', esm],
    ['cjs', cjs],
  ]) {
    const client = lib.createDispatchClient({ gatewayHttpUrl, serviceToken });
    try {
      assert.deepEqual((await client.getResult('run-1:n:0'))?.output, { ok: true });
      assert.equal(await client.getResult('run-2:n:0'), null);
      // The runner without Redis: in-process queue and polling, nothing optional needed.
      const runner = lib.createContinuationRunner({ client, store: lib.memoryCursorStore(), onResult: () => {} });
      await runner.start();
      await runner.close({ timeoutMs: 1000 });
    } finally {
      await client.close();
    }
    process.stdout.write(`lean dispatch (${format}): client and runner work without ioredis, bullmq and pg\n`);
  }
} finally {
  await new Promise((resolve) => server.close(resolve));
}

// The subpath itself loads (a host may import it and run without Redis); the peers are loaded on first
// use, so the queue's start(), the push's subscribe() and a runner using them reject.
const redisEsm = await import('@vespid/sdk-dispatch/redis');
const redisCjs = createRequire(import.meta.url)('@vespid/sdk-dispatch/redis');
const missing = (err) => {
  assert.equal(err.code, 'OPTIONAL_DEPENDENCY_MISSING');
  assert.equal(err.name, 'DispatchError');
  assert.match(err.message, /npm install ioredis bullmq/);
  return true;
};
for (const [format, redis, lib] of [
  ['esm', redisEsm, esm],
  ['cjs', redisCjs, cjs],
]) {
  const connection = 'redis://127.0.0.1:1';
  await assert.rejects(
    redis.bullmqQueue({ connection }).start(async () => ({ done: true })),
    missing,
  );
  await assert.rejects(redis.redisResultPush({ connection }).subscribe({ onResult: () => {} }), missing);
  const client = lib.createDispatchClient({ gatewayHttpUrl: 'http://127.0.0.1:1', serviceToken });
  const runner = lib.createContinuationRunner({
    client,
    store: lib.memoryCursorStore(),
    queue: redis.bullmqQueue({ connection }),
    push: redis.redisResultPush({ connection }),
    onResult: () => {},
  });
  await assert.rejects(runner.start(), missing);
  await client.close();
  process.stdout.write(`lean dispatch (${format}): /redis without ioredis -> OPTIONAL_DEPENDENCY_MISSING (npm install ioredis bullmq)\n`);
}
