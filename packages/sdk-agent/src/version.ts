/** Version reported in `hello.agentVersion`. Kept in sync with package.json by the release script. */
export const AGENT_VERSION = '0.1.0';
