import { describe, expect, it } from 'vitest';
import { type ContainerPurpose, type ContainerSpec, LABELS, containerCreateOptions } from './container-spec.js';
import { LAUNCHER } from './launcher.js';
import { type DockerSandboxOptions, resolveDockerSandboxOptions } from './options.js';

const OPTS: DockerSandboxOptions = { workdirRoot: '/wd', memoryMb: 128, cpus: 0.5, pids: 64, tmpSizeMb: 16, nofile: 512, poolSize: 2 };
const forTask: ContainerPurpose = { kind: 'task', requestId: 'r:n:0', deadline: 123, workdir: '/wd/o/r/n/0' };
const forPool: ContainerPurpose = { kind: 'pool', poolKey: 'k1' };

// One fixture for both kinds of container: they differ only in their purpose.
function spec(purpose: ContainerPurpose, over: DockerSandboxOptions = {}, specOver: Partial<ContainerSpec> = {}) {
  return containerCreateOptions(resolveDockerSandboxOptions({ ...OPTS, ...over }), {
    image: 'img',
    user: '65534:65534',
    network: 'none',
    scope: 'scope1',
    instanceId: 'i1',
    purpose,
    ...specOver,
  });
}

describe('container create options', () => {
  it('hardens the container', () => {
    const s = spec(forTask);
    expect(s.User).toBe('65534:65534');
    expect(s.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      Privileged: false,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Init: true,
      NetworkMode: 'none',
      // 128 MiB for processes plus the default 512 MiB of /work (a tmpfs is memory).
      Memory: (128 + 512) * 1024 * 1024,
      MemorySwap: (128 + 512) * 1024 * 1024,
      NanoCpus: 500_000_000,
      PidsLimit: 64,
      IpcMode: 'none',
      Ulimits: [{ Name: 'nofile', Soft: 512, Hard: 512 }],
      AutoRemove: false,
    });
    expect(s.HostConfig?.Tmpfs?.['/tmp']).toMatch(/^rw,noexec,nosuid,nodev,size=16m,mode=1777,uid=65534,gid=65534$/);
    expect(JSON.stringify(s)).not.toMatch(/docker\.sock|"host"|seccomp/);
  });

  it('gives a warm container exactly the hardening of one created for a task', () => {
    const { Labels: coldLabels, ...cold } = spec(forTask);
    const { Labels: warmLabels, ...warm } = spec(forPool);
    expect(warm).toEqual(cold);
    expect(coldLabels).not.toEqual(warmLabels);
  });

  it.each([forTask, forPool])('carries no task ($kind): no Env, a fixed launcher command reading stdin', (purpose) => {
    const s = spec(purpose);
    expect(s).not.toHaveProperty('Env');
    expect(s.Cmd).toEqual(['sh', '-c', LAUNCHER]);
    expect(s.Entrypoint).toEqual([]);
    expect(s).toMatchObject({ OpenStdin: true, StdinOnce: true, AttachStdin: true, Tty: false });
  });

  it('bounds /work with a size-limited tmpfs, keeps the script in a tmpfs and mounts nothing from the host', () => {
    const s = spec(forTask);
    expect(s.HostConfig?.Tmpfs?.['/work']).toBe('rw,exec,nosuid,nodev,size=512m,mode=0755,uid=65534,gid=65534');
    expect(s.HostConfig?.Tmpfs?.['/vespid']).toBe('rw,noexec,nosuid,nodev,size=2m,mode=0700,uid=65534,gid=65534');
    expect(s.HostConfig?.Mounts).toEqual([]);
    expect(s.HostConfig?.Binds).toBeUndefined();
  });

  it('mounts the per-run host directory as /work only when the operator turns the bound off (0)', () => {
    const unbounded = spec(forTask, { workdirMaxMb: 0 });
    expect(unbounded.HostConfig?.Mounts).toEqual([{ Type: 'bind', Source: '/wd/o/r/n/0', Target: '/work', ReadOnly: false }]);
    expect(unbounded.HostConfig?.Tmpfs?.['/work']).toBeUndefined();
    expect(unbounded.HostConfig?.Memory).toBe(128 * 1024 * 1024);
  });

  it('refuses a warm container with an unbounded /work, which would need a per-run host mount', () => {
    expect(() => spec(forPool, { workdirMaxMb: 0 })).toThrow(/bounded/);
  });

  it('covers image volumes with read-only tmpfs, except the paths it mounts itself', () => {
    const s = spec(forTask, {}, { user: '1000:1000', imageVolumes: ['/data', '/work', '/tmp/', '/vespid'] });
    expect(s.HostConfig?.Tmpfs).toEqual({
      '/tmp': 'rw,noexec,nosuid,nodev,size=16m,mode=1777,uid=1000,gid=1000',
      '/work': 'rw,exec,nosuid,nodev,size=512m,mode=0755,uid=1000,gid=1000',
      '/dev/mqueue': 'ro,noexec,nosuid,nodev,size=4k',
      '/vespid': 'rw,noexec,nosuid,nodev,size=2m,mode=0700,uid=1000,gid=1000',
      '/data': 'ro,noexec,nosuid,nodev,size=4k',
    });
  });

  it('labels a task container with its request and deadline for the sweeper, a warm one with its pool key only', () => {
    const base = { [LABELS.sandbox]: '1', [LABELS.scope]: 'scope1', [LABELS.instance]: 'i1' };
    expect(spec(forTask).Labels).toEqual({
      ...base,
      [LABELS.deadline]: '123',
      [LABELS.requestId]: 'r:n:0',
      [LABELS.workdir]: '/wd/o/r/n/0',
    });
    expect(spec(forPool).Labels).toEqual({ ...base, [LABELS.pool]: 'k1' });
  });
});
