/**
 * Exit codes of `vespid-agent`: one meaning each, documented in `--help` and the README.
 * 0 done, 1 a runtime failure (pairing refused, gateway unreachable for good, revoked), 2 a usage error
 * (unknown or missing flag, invalid flag or environment value), 130 a second Ctrl-C.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/**
 * A mistake in how the CLI was called (flags, environment variables): exit code 2, one line, no stack.
 *
 * @example
 * ```ts
 * throw new UsageError('missing --api-base (or VESPID_API_BASE)');
 * ```
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A runtime failure the operator can fix: printed as the message plus a `hint:` line, exit code 1.
 *
 * @example
 * ```ts
 * throw new CliError('an agent identity already exists at ~/.vespid/agent.json', 'pass --replace to pair a new one');
 * ```
 */
export class CliError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'CliError';
    this.hint = hint;
  }
}
