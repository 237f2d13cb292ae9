/**
 * Version reported in `hello.agentVersion`. Must equal the package.json version (a unit test checks it).
 *
 * @example
 * ```ts
 * logger.info({ version: AGENT_VERSION }, 'starting');
 * ```
 */
export const AGENT_VERSION = '0.1.0';
