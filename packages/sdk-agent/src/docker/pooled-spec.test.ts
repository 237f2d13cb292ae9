import { describe, expect, it } from 'vitest';
import { LABELS, containerCreateOptions, pooledContainerCreateOptions } from './container-spec.js';
import { LAUNCHER } from './launcher.js';
import { resolveDockerSandboxOptions } from './options.js';

describe('warm (pooled) container create options', () => {
  const opts = resolveDockerSandboxOptions({ workdirRoot: '/wd', memoryMb: 128, pids: 64, poolSize: 2 });
  const pooled = pooledContainerCreateOptions(opts, {
    image: 'img',
    user: '65534:65534',
    network: 'none',
    scope: 'scope1',
    instanceId: 'i1',
    poolKey: 'k1',
    imageVolumes: ['/data'],
  });
  const cold = containerCreateOptions(opts, {
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
    imageVolumes: ['/data'],
  });

  it('keeps every hardening setting of the cold spec', () => {
    const { Tmpfs: pooledTmpfs, Mounts: pooledMounts, ...pooledHost } = pooled.HostConfig ?? {};
    const { Tmpfs: coldTmpfs, Mounts: _coldMounts, ...coldHost } = cold.HostConfig ?? {};
    expect(pooledHost).toEqual(coldHost);
    expect(pooled.User).toBe(cold.User);
    expect(pooled.WorkingDir).toBe('/work');
    expect(pooled.NetworkDisabled).toBe(true);
    // Same tmpfs mounts (bounded /work, /tmp, /dev/mqueue, the image volume), plus the in-memory /vespid.
    expect(pooledTmpfs).toEqual({ ...coldTmpfs, '/vespid': 'rw,noexec,nosuid,nodev,size=2m,mode=0700,uid=65534,gid=65534' });
    // Nothing from the host: the script arrives over stdin.
    expect(pooledMounts).toEqual([]);
  });

  it('carries no task: no Env, no per-task label, a fixed launcher command', () => {
    expect(pooled).not.toHaveProperty('Env');
    expect(pooled.Cmd).toEqual(['sh', '-c', LAUNCHER]);
    expect(pooled.Entrypoint).toEqual([]);
    expect(pooled.Labels).toEqual({ [LABELS.sandbox]: '1', [LABELS.scope]: 'scope1', [LABELS.instance]: 'i1', [LABELS.pool]: 'k1' });
    expect(pooled).toMatchObject({ OpenStdin: true, StdinOnce: true, AttachStdin: true, Tty: false });
  });

  it('refuses an unbounded /work, which would need a per-run host mount', () => {
    const unbounded = resolveDockerSandboxOptions({ workdirRoot: '/wd', workdirMaxMb: 0, poolSize: 2 });
    expect(() =>
      pooledContainerCreateOptions(unbounded, { image: 'img', user: '1:1', network: 'none', scope: 's', instanceId: 'i', poolKey: 'k' }),
    ).toThrow(/bounded/);
  });
});
