/**
 * The install commands of the pairing dialog's tabs, one per way of running the agent. Pure functions
 * (no DOM) so a unit test pins every command the page shows.
 */
import { connectCommand, shellWord } from '../src/web/lib/command.js';

/** The ways to run an agent, in tab order. */
export const INSTALL_METHODS = ['npx', 'binary', 'container', 'source'] as const;
export type InstallMethod = (typeof INSTALL_METHODS)[number];

/** Tab labels. */
export const INSTALL_LABELS: Record<InstallMethod, string> = {
  npx: 'npx',
  binary: 'Binary',
  container: 'Container',
  source: 'From source',
};

/** What to know before running the command of each tab. */
export const INSTALL_NOTES: Record<InstallMethod, string> = {
  npx: 'Node.js 20.19 or newer. Installs nothing globally; `npm i -g @vespid/node-agent` gives a `vespid-agent` command.',
  binary: 'Linux x64 single-file executable (build it with `pnpm build:agent-binary`); needs no Node.js.',
  container:
    'Identity and work directory live in the vespid-agent volume. For agent.execute in the Docker sandbox add -v /var/run/docker.sock:/var/run/docker.sock -e VESPID_AGENT_EXEC_BACKEND=docker (root-equivalent access to the host: see the operator guide).',
  source: 'In a clone of the Vespid repository, after `pnpm install`.',
};

/** Whether the agent would reach the api on the container's own loopback instead of the host's. */
function loopback(apiBase: string): boolean {
  try {
    const host = new URL(apiBase).hostname;
    return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  } catch {
    return false;
  }
}

/**
 * The command of one tab. The pairing token goes through an environment variable for the container so
 * `docker inspect` of a long-running container shows only a spent, single-use token.
 *
 * @example
 * ```ts
 * installCommand('npx', { pairingToken, apiBase: 'https://api.example.com' });
 * // 'npx @vespid/node-agent connect --pairing-token … --api-base https://api.example.com'
 * ```
 */
export function installCommand(method: InstallMethod, options: { pairingToken: string; apiBase: string }): string {
  const apiBase = options.apiBase.replace(/\/+$/, '');
  const args = `connect --pairing-token ${shellWord(options.pairingToken)} --api-base ${shellWord(apiBase)}`;
  switch (method) {
    case 'npx':
      return `npx @vespid/node-agent ${args}`;
    case 'binary':
      return `./vespid-agent ${args}`;
    case 'container':
      return [
        'docker run -d --name vespid-agent --restart unless-stopped',
        ...(loopback(apiBase) ? ['--network host'] : []),
        `-e VESPID_PAIRING_TOKEN=${shellWord(options.pairingToken)} -e VESPID_API_BASE=${shellWord(apiBase)}`,
        '-v vespid-agent:/var/lib/vespid-agent vespid/node-agent',
      ].join(' ');
    case 'source':
      return connectCommand(options);
  }
}
