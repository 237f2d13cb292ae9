import { describe, expect, it } from 'vitest';
import { INSTALL_METHODS, installCommand } from '../../client/install-commands.js';
import { connectCommand } from './lib/command.js';

const pairingToken = '0b7f0a4e-0000-4000-8000-000000000001.abc_DEF-123';

describe('pairing dialog install commands', () => {
  it('offers npx, binary, container and from source, in that order', () => {
    expect(INSTALL_METHODS).toEqual(['npx', 'binary', 'container', 'source']);
  });

  it('each tab runs `connect` with the token and the api base', () => {
    const apiBase = 'https://api.example.com/';
    expect(installCommand('npx', { pairingToken, apiBase })).toBe(
      `npx @vespid/node-agent connect --pairing-token ${pairingToken} --api-base https://api.example.com`,
    );
    expect(installCommand('binary', { pairingToken, apiBase })).toBe(
      `./vespid-agent connect --pairing-token ${pairingToken} --api-base https://api.example.com`,
    );
    expect(installCommand('container', { pairingToken, apiBase })).toBe(
      `docker run -d --name vespid-agent --restart unless-stopped -e VESPID_PAIRING_TOKEN=${pairingToken} -e VESPID_API_BASE=https://api.example.com -v vespid-agent:/var/lib/vespid-agent vespid/node-agent`,
    );
    // From source = the runbook's command, verbatim.
    expect(installCommand('source', { pairingToken, apiBase: 'http://localhost:3001' })).toBe(
      `pnpm --filter @vespid/node-agent dev -- connect --pairing-token ${pairingToken} --api-base http://localhost:3001`,
    );
    expect(installCommand('source', { pairingToken, apiBase })).toBe(connectCommand({ pairingToken, apiBase }));
  });

  it('the container shares the host network when the api is on loopback, and quotes odd values', () => {
    expect(installCommand('container', { pairingToken, apiBase: 'http://localhost:3001' })).toContain('--network host');
    expect(installCommand('npx', { pairingToken: "a'b", apiBase: 'http://x' })).toContain(`--pairing-token 'a'\\''b'`);
  });
});
