import type { Logger } from '@vespid/protocol';
import type Dockerode from 'dockerode';
import { LABELS } from './container-spec.js';
import { removeContainer } from './engine.js';
import { dockerFailed } from './errors.js';
import { removeDir, removeWorkdir } from './workdir.js';

/** Inputs of {@link sweepOrphans}. */
export interface SweepInput {
  readonly docker: Dockerode;
  readonly scope: string;
  /** This executor instance: its own running containers are left alone unless past their deadline. */
  readonly instanceId: string;
  /** `true` on start: every container of the scope from another instance belongs to a dead agent. */
  readonly all: boolean;
  /** A container whose deadline passed this long ago is an orphan even if its agent looks alive. */
  readonly graceMs: number;
  readonly workdirRoot: string;
  readonly keepWorkdirs: boolean;
  readonly logger: Logger;
  /**
   * For this instance's warm (pooled) containers, which carry no deadline label: whether the executor
   * still holds `id` (idle in its pool, or running a task that is not overdue). One it does not hold
   * (its removal failed) is swept once older than `graceMs`. Default: all are held.
   */
  readonly holdsPooled?: (id: string) => boolean;
}

/**
 * Removes sandbox containers of this scope left behind by a crashed agent (a container outlives a
 * `kill -9` of its agent), with their script directories and, unless kept, their workdirs.
 * Returns how many containers were removed.
 */
export async function sweepOrphans(input: SweepInput): Promise<number> {
  let list: Dockerode.ContainerInfo[];
  try {
    list = await input.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.sandbox}=1`, `${LABELS.scope}=${input.scope}`] },
    });
  } catch (err) {
    throw dockerFailed('list containers', err);
  }
  const now = Date.now();
  let removed = 0;
  for (const info of list) {
    const labels = info.Labels ?? {};
    const ours = labels[LABELS.instance] === input.instanceId;
    const deadline = Number(labels[LABELS.deadline]);
    const overdue = Number.isFinite(deadline) && now > deadline + input.graceMs;
    // A warm container of ours that we no longer hold (and that is not still being created).
    const stray =
      ours && labels[LABELS.pool] !== undefined && !(input.holdsPooled?.(info.Id) ?? true) && now - info.Created * 1000 > input.graceMs;
    if (!(overdue || stray || (input.all && !ours))) continue;
    try {
      await removeContainer(input.docker.getContainer(info.Id));
    } catch (err) {
      // One stuck container must not stop the sweep of the others; the next sweep retries it.
      input.logger.warn({ containerId: info.Id.slice(0, 12), err: String(err) }, 'could not remove orphaned sandbox container');
      continue;
    }
    removed++;
    const scriptDir = labels[LABELS.scriptDir];
    if (scriptDir?.startsWith(`${input.workdirRoot}/`)) await removeDir(scriptDir);
    const workdir = labels[LABELS.workdir];
    if (!input.keepWorkdirs && workdir?.startsWith(`${input.workdirRoot}/`))
      await removeWorkdir(input.workdirRoot, workdir).catch(() => {});
    input.logger.info({ containerId: info.Id.slice(0, 12), requestId: labels[LABELS.requestId] }, 'removed orphaned sandbox container');
  }
  return removed;
}
