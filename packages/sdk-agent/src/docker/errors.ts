import { type ErrorCode, VespidError, type VespidErrorOptions } from '@vespid/protocol';

/**
 * The error of the Docker sandbox executor. Its `code` is one of the catalogue codes
 * (`DOCKER_FAILED`, `DOCKER_IMAGE_NOT_FOUND`, `ENV_NOT_ALLOWED`, `NETWORK_NOT_ALLOWED`, `WORKDIR_ESCAPE`, …).
 * Messages never carry env values, create options or script output.
 *
 * @example
 * ```ts
 * throw new DockerSandboxError('NETWORK_NOT_ALLOWED', 'network "bridge" is not allowed by this agent');
 * ```
 */
export class DockerSandboxError extends VespidError {
  constructor(code: ErrorCode, message: string, options: VespidErrorOptions = {}) {
    super(code, message, options);
    this.name = 'DockerSandboxError';
  }
}

/** Status code carried by dockerode errors (HTTP status of the Engine API), if any. */
export function engineStatus(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/**
 * Wraps an unexpected Engine API failure as a retryable `DOCKER_FAILED`. Only the status code and a
 * short reason are kept: dockerode messages can echo request details, so the raw error stays in `cause`.
 */
export function dockerFailed(what: string, err: unknown): DockerSandboxError {
  if (err instanceof DockerSandboxError) return err;
  const status = engineStatus(err);
  const sysCode = (err as { code?: unknown } | null)?.code;
  const reason = status !== undefined ? `HTTP ${status}` : typeof sysCode === 'string' ? sysCode : 'engine error';
  return new DockerSandboxError('DOCKER_FAILED', `docker ${what} failed (${reason})`, { cause: err, retryable: true });
}
