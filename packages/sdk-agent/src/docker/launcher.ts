/**
 * How every sandbox container receives its task, whether pre-created (warm) or created for the task
 * (cold). `Config.Env` is visible to anyone who can `docker inspect` and stored in plaintext by the
 * engine, and a warm container is created before its task is known anyway. So the command of every
 * container is the fixed {@link LAUNCHER}, and the agent writes a preamble to the container's stdin over
 * the attach stream (hijacked, then half-closed): the preamble writes the script to the `/vespid`
 * tmpfs, exports the task's env and `exec`s the task shell. The env and the script therefore only
 * travel through the engine's in-memory stdin pipe into the container's process memory: never to the
 * host disk, never into the container's config or labels.
 */

/** Where the task script is written inside the container (a small tmpfs, read-only once written). */
export const SCRIPT_DIR = '/vespid';

/**
 * The command of every sandbox container: read stdin to its end (the agent half-closes it after the
 * preamble) and run it. The task shell then inherits a stdin at EOF.
 */
export const LAUNCHER = 'eval "$(cat)"';

/** Single-quotes a string for a POSIX shell: `'` becomes `'\''`. */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

// Env names are validated upstream (task env keys and the operator allowlist); re-checked here so a
// malformed key can never become shell syntax.
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Exit code of the launcher when it cannot write the script (the tmpfs is full or not writable). */
export const LAUNCHER_SETUP_FAILED = 125;

/**
 * The preamble the container's {@link LAUNCHER} evaluates. Contains the env values (secrets) and
 * the script: it must never be logged, stored or put in an error.
 *
 * The script file is written and made read-only before any task env is exported, so a task `PATH`
 * cannot change which `chmod` runs; `exec` leaves the task shell as the only process under init, so
 * signals, exit codes and the OOM flag are those of the script itself.
 */
export function launcherPreamble(input: { env: readonly string[]; script: string; shell: string }): Buffer {
  const file = `${SCRIPT_DIR}/task.sh`;
  const lines = [
    `printf '%s' ${shQuote(input.script)} > ${file} || exit ${LAUNCHER_SETUP_FAILED}`,
    `chmod 0444 ${file} && chmod 0555 ${SCRIPT_DIR} || exit ${LAUNCHER_SETUP_FAILED}`,
    // The launcher shell exported SHLVL=1; unset, the task shell starts at 1, as the container's own command would.
    'unset SHLVL',
  ];
  for (const entry of input.env) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (!ENV_NAME.test(name)) throw new TypeError('invalid env name in a sandbox env entry');
    lines.push(`export ${name}=${shQuote(eq < 0 ? '' : entry.slice(eq + 1))}`);
  }
  lines.push(`exec ${shQuote(input.shell)} ${file}`);
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}
