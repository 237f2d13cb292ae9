/**
 * `vespid-agent service install|uninstall|status` for systemd. `--print` shows the unit (and the
 * commands) without touching the system. Install needs root and an identity at the service's config path.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CliError } from './exit-codes.js';
import { identityExists } from './identity.js';
import type { ServiceFlags } from './program.js';
import { renderSystemdUnit } from './systemd-unit.js';

const run = promisify(execFile);

/** Where the service keeps its identity unless `--config-path` says otherwise. */
export const SERVICE_STATE_DIR = '/var/lib/vespid-agent';

/** The command that starts this very agent: the SEA binary alone, or node + the script. */
export function selfCommand(argv1: string | undefined = process.argv[1], execPath = process.execPath): string[] {
  if (isSingleExecutable()) return [execPath];
  if (!argv1) return [execPath];
  return [execPath, resolve(argv1)];
}

function isSingleExecutable(): boolean {
  try {
    // node:sea exists from Node 20.12; absent or false everywhere else.
    const sea = process.getBuiltinModule?.('node:sea') as { isSea?: () => boolean } | undefined;
    return Boolean(sea?.isSea?.());
  } catch {
    return false;
  }
}

/** Resolved settings of a service command. */
export interface ServicePlan {
  unitName: string;
  unitPath: string;
  user: string;
  configPath: string;
  workdirRoot: string;
  environmentFile: string;
  unit: string;
}

/** Computes paths and the unit text from the flags (no side effects). */
export function planService(flags: ServiceFlags, env: Record<string, string | undefined>, exec = selfCommand()): ServicePlan {
  const unitName = (flags.unitName ?? 'vespid-agent').replace(/\.service$/, '');
  if (!/^[A-Za-z0-9_.@-]+$/.test(unitName)) throw new CliError(`invalid --unit-name ${JSON.stringify(unitName)}`);
  const user = flags.serviceUser ?? 'vespid-agent';
  if (!/^[a-z_][a-z0-9_-]*\$?$/.test(user)) throw new CliError(`invalid --service-user ${JSON.stringify(user)}`);
  const configPath = resolve(flags.configPath ?? join(SERVICE_STATE_DIR, 'agent.json'));
  const workdirRoot = resolve(
    env.VESPID_AGENT_WORKDIR_ROOT && isAbsolute(env.VESPID_AGENT_WORKDIR_ROOT)
      ? env.VESPID_AGENT_WORKDIR_ROOT
      : join(dirname(configPath), 'workdir'),
  );
  const environmentFile = `/etc/${unitName}/env`;
  const docker = env.VESPID_AGENT_EXEC_BACKEND?.trim().toLowerCase() === 'docker';
  const unit = renderSystemdUnit({
    exec,
    user,
    configPath,
    workdirRoot,
    environmentFile,
    ...(docker ? { groups: ['docker'] } : {}),
  });
  return {
    unitName,
    unitPath: join(flags.unitDir ?? '/etc/systemd/system', `${unitName}.service`),
    user,
    configPath,
    workdirRoot,
    environmentFile,
    unit,
  };
}

async function sh(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout } = await run(cmd, args, { timeout: 30_000 });
    return { ok: true, out: stdout.trim() };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: (e.stdout || e.stderr || e.message).trim() };
  }
}

/** Runs one service action; `out` receives what the operator reads. */
export async function serviceCommand(
  action: 'install' | 'uninstall' | 'status',
  flags: ServiceFlags,
  io: { env: Record<string, string | undefined>; out(s: string): void },
): Promise<void> {
  const plan = planService(flags, io.env);
  if (flags.print) {
    if (action === 'install') {
      io.out(`# ${plan.unitPath}\n${plan.unit}`);
      io.out(
        `# then: useradd --system --home-dir ${dirname(plan.configPath)} --shell /usr/sbin/nologin ${plan.user}; chown -R ${plan.user}: ${dirname(plan.configPath)}; systemctl daemon-reload; systemctl enable --now ${plan.unitName}\n`,
      );
    } else if (action === 'uninstall') io.out(`systemctl disable --now ${plan.unitName}; rm ${plan.unitPath}; systemctl daemon-reload\n`);
    else io.out(`systemctl status ${plan.unitName}\n`);
    return;
  }
  if (process.platform !== 'linux')
    throw new CliError('service commands manage systemd units and need Linux', 'use --print to see the unit');
  if (action === 'status') {
    const installed = await stat(plan.unitPath).then(
      () => true,
      () => false,
    );
    const enabled = await sh('systemctl', ['is-enabled', plan.unitName]);
    const active = await sh('systemctl', ['is-active', plan.unitName]);
    io.out(
      `unit      ${plan.unitPath} (${installed ? 'installed' : 'not installed'})\nenabled   ${enabled.out || 'unknown'}\nactive    ${active.out || 'unknown'}\n`,
    );
    return;
  }
  if (process.getuid?.() !== 0)
    throw new CliError(`service ${action} needs root`, `run it with sudo, or use --print to see what it would do`);
  if (action === 'uninstall') {
    await sh('systemctl', ['disable', '--now', plan.unitName]);
    await rm(plan.unitPath, { force: true });
    await sh('systemctl', ['daemon-reload']);
    io.out(
      `removed ${plan.unitPath}; the identity at ${plan.configPath} is kept (\`vespid-agent remove --config-path ${plan.configPath}\` deregisters it)\n`,
    );
    return;
  }
  if (!(await identityExists(plan.configPath))) {
    throw new CliError(
      `no agent identity at ${plan.configPath}`,
      `pair it there first: vespid-agent connect --config-path ${plan.configPath} --pairing-token-file - --api-base <url> (Ctrl-C once it says connected), then install again`,
    );
  }
  if (!(await sh('id', ['-u', plan.user])).ok) {
    const made = await sh('useradd', ['--system', '--home-dir', dirname(plan.configPath), '--shell', '/usr/sbin/nologin', plan.user]);
    if (!made.ok) throw new CliError(`cannot create the service user ${plan.user}: ${made.out}`);
  }
  const ids = await sh('id', ['-u', plan.user]);
  const gid = await sh('id', ['-g', plan.user]);
  for (const dir of [dirname(plan.configPath), plan.workdirRoot]) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chown(dir, Number(ids.out), Number(gid.out));
    await chmod(dir, 0o700);
  }
  await chown(plan.configPath, Number(ids.out), Number(gid.out));
  await mkdir(plan.unitPath.replace(/\/[^/]+$/, ''), { recursive: true });
  await writeFile(plan.unitPath, plan.unit, { mode: 0o644 });
  await sh('systemctl', ['daemon-reload']);
  const enabled = await sh('systemctl', ['enable', '--now', plan.unitName]);
  if (!enabled.ok) throw new CliError(`wrote ${plan.unitPath} but systemctl enable --now failed: ${enabled.out}`);
  io.out(`installed and started ${plan.unitName} (${plan.unitPath}); logs: journalctl -u ${plan.unitName} -f\n`);
}
