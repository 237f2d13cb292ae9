/**
 * Version of the `@vespid/node-agent` package, reported in `hello.agentVersion` and by `--version`.
 * Must equal package.json's version (a unit test checks it); a constant so the SEA bundle needs no
 * package.json beside it.
 */
export const NODE_AGENT_VERSION = '0.1.0';
