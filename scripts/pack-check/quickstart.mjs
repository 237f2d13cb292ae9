// The integrator guide's quickstart, run in the scratch project against the tarballs: the gateway in
// the user's own Fastify app, an agent with a custom executor, one dispatch. Run with tsx (the guide's
// files are TypeScript, copied verbatim from examples/embed-gateway/src).
import assert from 'node:assert/strict';
import { quickstart } from './quickstart.ts';

const output = await quickstart({ port: 0 });
assert.deepEqual(output, { greeting: 'hello, world' });
process.stdout.write(`quickstart from the docs ok: ${JSON.stringify(output)}\n`);
