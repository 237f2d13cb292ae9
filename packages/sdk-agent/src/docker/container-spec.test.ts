import { describe, expect, it } from 'vitest';
import { LABELS, containerCreateOptions } from './container-spec.js';
import { resolveDockerSandboxOptions } from './options.js';

describe('container create options', () => {
  const opts = resolveDockerSandboxOptions({ workdirRoot: '/wd', memoryMb: 128, cpus: 0.5, pids: 64, tmpSizeMb: 16, nofile: 512 });
  const spec = containerCreateOptions(opts, {
    image: 'img',
    shell: 'sh',
    user: '65534:65534',
    network: 'none',
    workdir: '/wd/o/r/n/0',
    scriptDir: '/wd/.vespid-scripts/x',
    env: ['A=1'],
    requestId: 'r:n:0',
    scope: 'scope1',
    instanceId: 'i1',
    deadline: 123,
  });

  it('hardens the container', () => {
    expect(spec.User).toBe('65534:65534');
    expect(spec.HostConfig).toMatchObject({
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
    expect(spec.HostConfig?.Tmpfs?.['/tmp']).toMatch(/^rw,noexec,nosuid,nodev,size=16m,mode=1777,uid=65534,gid=65534$/);
    expect(JSON.stringify(spec)).not.toMatch(/docker\.sock|"host"|seccomp/);
  });

  it('bounds /work with a size-limited tmpfs and mounts only the script from the host (read-only)', () => {
    expect(spec.HostConfig?.Tmpfs?.['/work']).toBe('rw,exec,nosuid,nodev,size=512m,mode=0755,uid=65534,gid=65534');
    expect(spec.HostConfig?.Mounts).toEqual([{ Type: 'bind', Source: '/wd/.vespid-scripts/x', Target: '/vespid', ReadOnly: true }]);
    expect(spec.HostConfig?.Binds).toBeUndefined();
    expect(spec.Cmd).toEqual(['sh', '/vespid/task.sh']);
  });

  it('mounts the per-run host directory as /work only when the operator turns the bound off (0)', () => {
    const unbounded = containerCreateOptions(resolveDockerSandboxOptions({ workdirRoot: '/wd', memoryMb: 128, workdirMaxMb: 0 }), {
      image: 'img',
      shell: 'sh',
      user: '65534:65534',
      network: 'none',
      workdir: '/wd/o/r/n/0',
      scriptDir: '/wd/.vespid-scripts/x',
      env: [],
      requestId: 'r:n:0',
      scope: 's',
      instanceId: 'i',
      deadline: 1,
    });
    expect(unbounded.HostConfig?.Mounts).toEqual([
      { Type: 'bind', Source: '/wd/o/r/n/0', Target: '/work', ReadOnly: false },
      { Type: 'bind', Source: '/wd/.vespid-scripts/x', Target: '/vespid', ReadOnly: true },
    ]);
    expect(unbounded.HostConfig?.Tmpfs?.['/work']).toBeUndefined();
    expect(unbounded.HostConfig?.Memory).toBe(128 * 1024 * 1024);
  });

  it('covers image volumes with read-only tmpfs, except the paths it mounts itself', () => {
    const withVolumes = containerCreateOptions(opts, {
      image: 'img',
      shell: 'sh',
      user: '1000:1000',
      network: 'none',
      workdir: '/wd/o/r',
      scriptDir: '/wd/.vespid-scripts/y',
      env: [],
      requestId: 'r',
      scope: 's',
      instanceId: 'i',
      deadline: 1,
      imageVolumes: ['/data', '/work', '/tmp/'],
    });
    expect(withVolumes.HostConfig?.Tmpfs).toEqual({
      '/tmp': 'rw,noexec,nosuid,nodev,size=16m,mode=1777,uid=1000,gid=1000',
      '/work': 'rw,exec,nosuid,nodev,size=512m,mode=0755,uid=1000,gid=1000',
      '/dev/mqueue': 'ro,noexec,nosuid,nodev,size=4k',
      '/data': 'ro,noexec,nosuid,nodev,size=4k',
    });
  });

  it('labels the container as ours for the sweeper', () => {
    expect(spec.Labels).toMatchObject({
      [LABELS.sandbox]: '1',
      [LABELS.scope]: 'scope1',
      [LABELS.instance]: 'i1',
      [LABELS.deadline]: '123',
    });
  });
});
