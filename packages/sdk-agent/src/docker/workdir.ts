import { chown, lstat, mkdir, realpath, rm, rmdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DockerSandboxError } from './errors.js';

/** Where a run's files live on the host. */
export interface RunLocation {
  readonly organizationId: string;
  readonly runId: string;
  readonly nodeId?: string | undefined;
  readonly attempt?: number | undefined;
}

/**
 * Locates a run from the payload's `run`, else from a `runId:nodeId:attempt` request id, else the
 * request id alone (a single directory level).
 */
export function locateRun(
  organizationId: string,
  requestId: string,
  run?: { runId: string; nodeId: string; attempt: number },
): RunLocation {
  if (run) return { organizationId, ...run };
  const parts = requestId.split(':');
  const attempt = parts.at(-1);
  if (parts.length >= 3 && attempt !== undefined && /^\d{1,4}$/.test(attempt)) {
    return { organizationId, runId: parts.slice(0, -2).join(':'), nodeId: parts.at(-2)!, attempt: Number(attempt) };
  }
  return { organizationId, runId: requestId };
}

// A path segment that cannot climb, hop to another directory or confuse the filesystem.
function checkSegment(label: string, value: string): string {
  if (
    value === '' ||
    value === '.' ||
    value === '..' ||
    value.startsWith('.') || // keeps run dirs apart from the agent's own dot-directories under the root
    value.includes('/') ||
    value.includes('\\') ||
    value.includes('\0') ||
    Buffer.byteLength(value) > 255
  ) {
    throw new DockerSandboxError('WORKDIR_ESCAPE', `${label} is not usable as a directory name`);
  }
  return value;
}

/** The per-run directory `<root>/<org>/<run>/<node>/<attempt>`; refuses anything that would leave the root. */
export function workdirPath(root: string, loc: RunLocation): string {
  const segments = [checkSegment('organizationId', loc.organizationId), checkSegment('runId', loc.runId)];
  if (loc.nodeId !== undefined) segments.push(checkSegment('nodeId', loc.nodeId));
  if (loc.attempt !== undefined) segments.push(checkSegment('attempt', String(loc.attempt)));
  const dir = join(root, ...segments);
  if (!isInside(root, dir)) throw new DockerSandboxError('WORKDIR_ESCAPE', 'the run directory would be outside the workdir root');
  return dir;
}

function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep);
}

/** Owner to give a directory so a non-root sandbox user can write into it. */
export interface DirOwner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Creates the run directory (owned by the sandbox user), then re-checks with `realpath` that no
 * symlink planted by an earlier run redirects it outside the root. The script never goes to the host
 * disk: it reaches the container over stdin.
 */
export async function prepareWorkdir(root: string, dir: string, owner: DirOwner | undefined): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o755 });
  // A concurrent run's cleanup may rmdir a shared parent between our mkdir steps: retry a few times.
  for (let i = 0; ; i++) {
    try {
      await mkdirNoFollow(root, dir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || i >= 3) throw err;
    }
  }
  const [realRoot, realDir] = await Promise.all([realpath(root), realpath(dir)]);
  if (!isInside(realRoot, realDir)) throw new DockerSandboxError('WORKDIR_ESCAPE', 'the run directory resolves outside the workdir root');
  if (owner) await chown(dir, owner.uid, owner.gid);
}

/**
 * Creates `dir` one level at a time below `root`, refusing any level that is not a real directory.
 * `mkdir -p` would follow a symlink planted by an earlier run (e.g. a run dir `<org>/<requestId>`
 * holding a link named like a later run's node id) and create directories outside the root.
 */
async function mkdirNoFollow(root: string, dir: string): Promise<void> {
  let cur = root;
  for (const seg of relative(root, dir).split(sep)) {
    cur = join(cur, seg);
    await mkdir(cur, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    if (!(await lstat(cur)).isDirectory()) {
      throw new DockerSandboxError('WORKDIR_ESCAPE', 'a run directory level is a link or a file, not a directory');
    }
  }
}

// Whether every level from root to dir is a real directory (no symlink to follow out of the root).
async function isPlainTree(root: string, dir: string): Promise<boolean> {
  let cur = root;
  for (const seg of relative(root, dir).split(sep)) {
    cur = join(cur, seg);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) return true; // already gone below this level: nothing to follow
    if (!st.isDirectory()) return false;
  }
  return true;
}

/**
 * Removes the run directory and then every parent that became empty, up to (not including) the root.
 * A path that runs through a symlink is left alone: removing it would delete the link's target.
 */
export async function removeWorkdir(root: string, dir: string): Promise<void> {
  if (!isInside(root, dir) || !(await isPlainTree(root, dir))) return;
  await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  let parent = join(dir, '..');
  while (isInside(root, parent)) {
    try {
      await rmdir(parent);
    } catch {
      return; // not empty (another run is using it) or already gone
    }
    parent = join(parent, '..');
  }
}

/** Removes a script directory (written by agents before the stdin launcher) and its parent if that became empty; never throws. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 2 }).catch(() => {});
  await rmdir(join(dir, '..')).catch(() => {}); // still in use by another run: keep it
}
