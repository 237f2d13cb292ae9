import { DockerSandboxError } from './errors.js';

/** A numeric user and group the sandbox runs as; neither is ever 0. */
export interface SandboxUser {
  readonly uid: number;
  readonly gid: number;
}

// The largest id accepted: Docker and runc parse ids as 32-bit ints, and a larger value must never
// wrap around to 0. 65534 (nobody) and typical service ids are far below.
const MAX_ID = 2_147_483_647;
const NOBODY = 65_534;

/**
 * Parses an operator's `uid:gid`. Both parts must be plain decimal numbers (names are refused: Docker
 * would resolve them against the image's own /etc/passwd, which a node chooses, so "app" could be
 * root there), and neither may be 0 in any spelling (`0`, `00`, `0:0`, `1000:0`, `root`, `+0`, ` 0`, …).
 *
 * @example
 * ```ts
 * parseSandboxUser('1000:1000'); // { uid: 1000, gid: 1000 }
 * parseSandboxUser('00:00'); // throws BAD_REQUEST: the sandbox never runs as root
 * ```
 */
export function parseSandboxUser(value: string): SandboxUser {
  const m = /^([0-9]{1,10}):([0-9]{1,10})$/.exec(value);
  if (!m) {
    throw new DockerSandboxError('BAD_REQUEST', 'the sandbox user must be numeric "uid:gid" (names are not accepted)');
  }
  const uid = Number(m[1]);
  const gid = Number(m[2]);
  if (uid === 0 || gid === 0) throw new DockerSandboxError('BAD_REQUEST', 'the sandbox never runs as root (uid 0 or gid 0)');
  if (uid > MAX_ID || gid > MAX_ID) throw new DockerSandboxError('BAD_REQUEST', `the sandbox uid and gid must be at most ${MAX_ID}`);
  return { uid, gid };
}

/** The ids of the agent process (undefined where the platform has none). */
export interface ProcessIds {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

/**
 * The user a run gets and whether the agent must chown writable directories to it: the operator's
 * choice if set; else nobody (65534) when the agent is root or the platform has no ids; else the
 * agent's own uid with its gid — except gid 0, replaced by nobody's group so the sandbox never holds
 * the root group.
 *
 * @example
 * ```ts
 * resolveSandboxUser(undefined, { uid: 0, gid: 0 }); // { user: { uid: 65534, gid: 65534 }, chown: true }
 * ```
 */
export function resolveSandboxUser(configured: string | undefined, ids: ProcessIds): { user: SandboxUser; chown: boolean } {
  const isRoot = ids.uid === 0;
  if (configured !== undefined) return { user: parseSandboxUser(configured), chown: isRoot };
  if (isRoot || ids.uid === undefined || ids.gid === undefined) return { user: { uid: NOBODY, gid: NOBODY }, chown: isRoot };
  return { user: { uid: ids.uid, gid: ids.gid === 0 ? NOBODY : ids.gid }, chown: false };
}

/** `uid:gid` as Docker's `User` field wants it. */
export function formatSandboxUser(user: SandboxUser): string {
  return `${user.uid}:${user.gid}`;
}
