import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { planService } from './service.js';
import { renderSystemdUnit } from './systemd-unit.js';

const base = {
  exec: ['/usr/bin/node', '/usr/lib/node_modules/@vespid/node-agent/dist/cli.js'],
  user: 'vespid-agent',
  configPath: '/var/lib/vespid-agent/agent.json',
  workdirRoot: '/var/lib/vespid-agent/workdir',
  environmentFile: '/etc/vespid-agent/env',
};

function directives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) map.set(m[1]!, [...(map.get(m[1]!) ?? []), m[2]!]);
  }
  return map;
}

describe('systemd unit', () => {
  it('restarts forever as a dedicated user, with no new privileges and only the identity and work dirs writable', () => {
    const d = directives(renderSystemdUnit(base));
    expect(d.get('ExecStart')).toEqual(['/usr/bin/node /usr/lib/node_modules/@vespid/node-agent/dist/cli.js start']);
    expect(d.get('Restart')).toEqual(['always']);
    expect(d.get('User')).toEqual(['vespid-agent']);
    expect(d.get('Group')).toEqual(['vespid-agent']);
    expect(d.get('NoNewPrivileges')).toEqual(['yes']);
    expect(d.get('ProtectSystem')).toEqual(['strict']);
    expect(d.get('ProtectHome')).toEqual(['yes']);
    expect(d.get('ReadWritePaths')).toEqual(['/var/lib/vespid-agent /var/lib/vespid-agent/workdir']);
    expect(d.get('Environment')).toContain('VESPID_AGENT_CONFIG_PATH=/var/lib/vespid-agent/agent.json');
    expect(d.get('EnvironmentFile')).toEqual(['-/etc/vespid-agent/env']);
    expect(d.get('KillSignal')).toEqual(['SIGTERM']);
    expect(d.get('TimeoutStopSec')).toEqual(['40']);
    expect(d.get('WantedBy')).toEqual(['multi-user.target']);
    expect(d.has('SupplementaryGroups')).toBe(false);
  });

  it('quotes paths with spaces and adds the docker group for the Docker backend', () => {
    const plan = planService({ configPath: '/srv/my agent/agent.json' }, { VESPID_AGENT_EXEC_BACKEND: 'docker' }, [
      '/opt/vespid agent/vespid-agent',
    ]);
    const d = directives(plan.unit);
    expect(d.get('ExecStart')).toEqual(['"/opt/vespid agent/vespid-agent" start']);
    expect(d.get('SupplementaryGroups')).toEqual(['docker']);
    expect(d.get('ReadWritePaths')).toEqual(['/srv/my agent /srv/my agent/workdir']);
    expect(plan.unitPath).toBe('/etc/systemd/system/vespid-agent.service');
  });

  it('`service install --print` shows the unit and the commands without touching the system', async () => {
    const out: string[] = [];
    const code = await runCli(['service', 'install', '--print', '--unit-name', 'edge-agent', '--service-user', 'edge'], {
      env: {},
      out: (s) => out.push(s),
      err: (s) => out.push(s),
    });
    expect(code).toBe(0);
    const text = out.join('');
    expect(text).toContain('# /etc/systemd/system/edge-agent.service');
    expect(text).toContain('User=edge');
    expect(text).toContain('EnvironmentFile=-/etc/edge-agent/env');
    expect(text).toMatch(/systemctl enable --now edge-agent/);
    const bad: string[] = [];
    expect(
      await runCli(['service', 'install', '--print', '--service-user', 'Bad User'], { env: {}, out: () => {}, err: (s) => bad.push(s) }),
    ).toBe(1);
    expect(bad[0]).toMatch(/invalid --service-user/);
  });

  it('passes systemd-analyze verify where it is available', () => {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) {
      // Not a skip: the unit is still checked above; this machine kind has no systemd-analyze.
      expect(process.platform === 'linux').toBe(true);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'vespid-unit-'));
    try {
      // verify needs ExecStart to exist: point it at real executables.
      const unit = renderSystemdUnit({ ...base, exec: [process.execPath, process.execPath] });
      const path = join(dir, 'vespid-agent.service');
      writeFileSync(path, unit);
      const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
      const complaints = `${r.stdout}${r.stderr}`
        .split('\n')
        .filter((l) => l.includes('vespid-agent.service'))
        // Unrelated to the unit: the container this runs in has no running systemd.
        .filter((l) => !/System has not been booted with systemd|Failed to connect to bus/.test(l));
      expect(complaints).toEqual([]);
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
