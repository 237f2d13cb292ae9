/**
 * The systemd unit of `vespid-agent service install`: restart forever, a dedicated user, no new
 * privileges, the whole file system read-only except the identity directory and the sandbox work
 * directory. Pure function so tests (and `--print`) see exactly what gets installed.
 */
import { dirname } from 'node:path';

/** Inputs of {@link renderSystemdUnit}. */
export interface SystemdUnitOptions {
  /** The command that runs the agent, as absolute paths: `[node, cli.js]` or `[sea-binary]`. */
  exec: string[];
  /** System user (and group) the service runs as. */
  user: string;
  /** Absolute path of the identity file the service runs with. */
  configPath: string;
  /** Absolute path of the sandbox work directory root (Docker backend). */
  workdirRoot: string;
  /** Optional environment file (`KEY=value` lines) for the rest of the settings. */
  environmentFile: string;
  /** Extra supplementary groups, e.g. `docker` for the sandbox. */
  groups?: string[];
  /** Time for a graceful drain on stop. @default 30000 */
  drainTimeoutMs?: number;
}

function quote(arg: string): string {
  // systemd splits ExecStart like a shell: quote anything with spaces, escape quotes and backslashes.
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The unit file text.
 *
 * @example
 * ```ts
 * renderSystemdUnit({ exec: ['/usr/local/bin/vespid-agent'], user: 'vespid-agent', configPath: '/var/lib/vespid-agent/agent.json',
 *   workdirRoot: '/var/lib/vespid-agent/workdir', environmentFile: '/etc/vespid-agent/env' });
 * ```
 */
export function renderSystemdUnit(o: SystemdUnitOptions): string {
  const drainMs = o.drainTimeoutMs ?? 30_000;
  const writable = [...new Set([dirname(o.configPath), o.workdirRoot])];
  const lines = [
    '# Written by `vespid-agent service install`. Edit settings in the EnvironmentFile, not here.',
    '[Unit]',
    'Description=Vespid node-agent',
    'Documentation=https://github.com/vespid/vespid/blob/main/docs/operator-guide.md',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${o.user}`,
    `Group=${o.user}`,
    ...(o.groups?.length ? [`SupplementaryGroups=${o.groups.join(' ')}`] : []),
    `Environment=VESPID_AGENT_CONFIG_PATH=${o.configPath}`,
    `Environment=VESPID_AGENT_WORKDIR_ROOT=${o.workdirRoot}`,
    'Environment=VESPID_AGENT_LOG_FORMAT=json',
    `Environment=VESPID_AGENT_DRAIN_TIMEOUT_MS=${drainMs}`,
    `EnvironmentFile=-${o.environmentFile}`,
    `ExecStart=${[...o.exec, 'start'].map(quote).join(' ')}`,
    'Restart=always',
    'RestartSec=5',
    // SIGTERM drains running tasks; systemd waits the drain plus a margin before SIGKILL.
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${Math.ceil(drainMs / 1000) + 10}`,
    // Hardening: nothing new to gain, nothing to write but the identity and the work directory.
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    `ReadWritePaths=${writable.join(' ')}`,
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}
