/**
 * Each published package reports its own version: from package.json when running from source, and inlined
 * by tsup's `define` in the build (not a literal someone must remember to bump). One table for all three.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import nodeAgentTsup from '../examples/node-agent/tsup.config.js';
import { NODE_AGENT_VERSION } from '../examples/node-agent/src/version.js';
import agentTsup from '../packages/sdk-agent/tsup.config.js';
import { AGENT_VERSION } from '../packages/sdk-agent/src/version.js';
import gatewayTsup from '../packages/sdk-gateway/tsup.config.js';
import { PACKAGE_VERSION } from '../packages/sdk-gateway/src/version.js';

const cases = [
  { dir: 'packages/sdk-gateway', constant: PACKAGE_VERSION, define: '__VESPID_GATEWAY_VERSION__', tsup: gatewayTsup },
  { dir: 'packages/sdk-agent', constant: AGENT_VERSION, define: '__VESPID_AGENT_VERSION__', tsup: agentTsup },
  { dir: 'examples/node-agent', constant: NODE_AGENT_VERSION, define: '__VESPID_NODE_AGENT_VERSION__', tsup: nodeAgentTsup },
];

describe.each(cases)('$dir version', ({ dir, constant, define, tsup }) => {
  it('is the package.json version when running from source, and the build inlines the same', async () => {
    const pkg = JSON.parse(await readFile(new URL(`../${dir}/package.json`, import.meta.url), 'utf8')) as { version: string };
    expect(constant).toBe(pkg.version);
    const config = Array.isArray(tsup) ? tsup[0] : tsup;
    expect(config).toMatchObject({ define: { [define]: JSON.stringify(pkg.version) } });
  });
});
