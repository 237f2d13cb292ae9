/**
 * The error-code catalogue. Every code any Vespid component emits is listed here with its meaning,
 * whether retrying can help, and what to do. The docs' error reference is generated from this table,
 * so it is the single source of truth. Parametric codes (`DOCKER_EXIT_CODE:<n>`,
 * `ACTION_NOT_SUPPORTED:<connector>:<action>`) are matched by their prefix.
 *
 * @example
 * ```ts
 * const info: ErrorCodeInfo | undefined = errorCodeInfo('NO_AGENT_AVAILABLE'); // { httpStatus: 503, retryable: true, … }
 * ```
 */
export interface ErrorCodeInfo {
  /** The code, or the family pattern for parametric codes (e.g. `DOCKER_EXIT_CODE:<n>`). */
  readonly code: string;
  /** HTTP status used when the code is returned by an HTTP API. */
  readonly httpStatus: number;
  /** Whether the same request may succeed if retried later. */
  readonly retryable: boolean;
  /** What it means. */
  readonly meaning: string;
  /** What the operator or integrator should do. */
  readonly action: string;
}

const entries = [
  [
    'BAD_REQUEST',
    400,
    false,
    'The request body or parameters failed validation.',
    'Fix the request; the message lists the invalid fields.',
  ],
  [
    'UNAUTHORIZED',
    401,
    false,
    'Missing or wrong credentials (service token, agent token or access token).',
    'Check the token configured for the caller.',
  ],
  ['FORBIDDEN', 403, false, 'The caller is authenticated but not allowed to do this.', 'Use an account with the needed role.'],
  ['NOT_FOUND', 404, false, 'The resource does not exist (or belongs to another organization).', 'Check the id.'],
  [
    'CONFLICT',
    409,
    false,
    'The resource is in a state that does not allow the operation.',
    'Re-read the resource and retry the operation if it still applies.',
  ],
  ['RATE_LIMITED', 429, true, 'Too many requests from this client.', 'Back off and retry later.'],
  ['INTERNAL_ERROR', 500, true, 'An unexpected error inside a Vespid component.', 'Check the component logs; report a bug if it repeats.'],
  [
    'NO_AGENT_AVAILABLE',
    503,
    true,
    'No connected agent of the organization matches the kind, connector, selector and capacity.',
    'Start or reconnect an agent, check its tags/connectors, or wait for capacity. The message says which filter excluded how many agents.',
  ],
  [
    'GATEWAY_NOT_CONFIGURED',
    500,
    false,
    'The worker has no GATEWAY_HTTP_URL or GATEWAY_SERVICE_TOKEN.',
    'Set GATEWAY_HTTP_URL and GATEWAY_SERVICE_TOKEN in the worker environment.',
  ],
  ['GATEWAY_UNAVAILABLE', 503, true, 'The gateway could not be reached.', 'Check that the gateway runs and is reachable from the worker.'],
  [
    'GATEWAY_RESPONSE_INVALID',
    502,
    true,
    'The gateway answered with something that is not protocol v1.',
    'Check that worker and gateway versions match.',
  ],
  [
    'GATEWAY_SHUTDOWN',
    503,
    true,
    'The gateway is shutting down; the request was not completed by it.',
    'Retry; another replica (or the restarted gateway) will take it.',
  ],
  ['RESULT_NOT_READY', 404, true, 'No result is stored for this request id yet.', 'Poll again later or wait for the result publication.'],
  [
    'AGENT_DISCONNECTED',
    503,
    true,
    'The agent running the request disconnected and did not resend a result before the deadline.',
    'Check the agent; the run may be retried.',
  ],
  ['AGENT_REVOKED', 403, false, 'The agent has been revoked.', 'Pair a new agent.'],
  [
    'AGENT_TOKEN_EXPIRED',
    401,
    false,
    'The agent token was rotated (or given an expiry) and the overlap window in which the old token still worked has ended.',
    'Pair the agent again: `vespid-agent connect --pairing-token <token> --replace` with a new pairing token.',
  ],
  ['AGENT_SHUTDOWN', 503, true, 'The agent was shutting down and cancelled the task.', 'Retry; another agent will take it.'],
  [
    'ORG_MISMATCH',
    403,
    false,
    'A request was addressed to an agent of another organization.',
    'This indicates a routing bug or an attack; check the gateway logs.',
  ],
  [
    'NODE_EXECUTION_TIMEOUT',
    504,
    false,
    'The node did not finish before its timeout. The action may still have run (in part), so the worker does not retry it: a second attempt could repeat a side effect, and a task that ran out of time usually does again.',
    "Raise the node's timeoutMs (connector.action), sandbox.timeoutMs (agent.execute) or NODE_EXEC_TIMEOUT_MS, or make the task faster; then re-run the workflow.",
  ],
  ['TASK_CANCELLED', 499, true, 'The task was cancelled by the gateway or the caller.', 'None, unless the cancellation was unexpected.'],
  [
    'KIND_NOT_SUPPORTED',
    400,
    false,
    'The agent has no executor for this node kind.',
    'Register an executor for the kind on the agent, or route the node elsewhere.',
  ],
  [
    'SANDBOX_BACKEND_NOT_CONFIGURED',
    400,
    false,
    'agent.execute reached an agent that has no sandbox backend.',
    'Set VESPID_AGENT_EXEC_BACKEND=docker on the agent.',
  ],
  [
    'CONNECTOR_NOT_FOUND',
    400,
    false,
    'The agent does not have the requested connector.',
    'Install the connector on the agent or route to an agent that has it.',
  ],
  ['ACTION_NOT_SUPPORTED:<connector>:<action>', 400, false, 'The connector has no such action.', 'Check the actionId in the node config.'],
  [
    'INVALID_ACTION_INPUT',
    400,
    false,
    'The action input failed the connector schema.',
    'Fix the node input; the message lists the invalid fields.',
  ],
  ['SECRET_REQUIRED', 400, false, 'The action needs a secret and none was sent.', 'Set auth.secretId on the node.'],
  [
    'HTTP_REQUEST_FAILED',
    502,
    true,
    'The http connector could not complete the request (network error or timeout; a connector may also report an HTTP 4xx/5xx with it, marking only 5xx retryable).',
    'Check the URL and the network path from the agent. The worker retries it (WORKFLOW_NODE_MAX_ATTEMPTS) unless it is marked not retryable (4xx) or the request is a POST/PATCH of the http connector, which may already have reached the server.',
  ],
  ['HTTP_RESPONSE_TOO_LARGE', 502, false, 'The http connector response exceeded its size cap.', 'Raise the cap or request less data.'],
  ['GITHUB_API_ERROR', 502, true, 'The GitHub API answered with an error.', 'Check the token scopes and the repository.'],
  [
    'DOCKER_FAILED',
    503,
    true,
    'The Docker engine could not be reached or failed.',
    'Check that dockerd runs and the agent user can use its socket.',
  ],
  [
    'DOCKER_IMAGE_NOT_FOUND',
    400,
    false,
    'The sandbox image is not present on the agent host.',
    'Pull or load the image on the agent host, or allow pulls.',
  ],
  [
    'DOCKER_OOM_KILLED',
    500,
    false,
    'The sandbox hit its memory limit and was killed.',
    'Raise VESPID_AGENT_DOCKER_MEMORY_MB or use less memory.',
  ],
  ['DOCKER_EXIT_CODE:<n>', 500, false, 'The sandboxed script exited with status n.', 'Read stdout/stderr in the result output.'],
  [
    'ENV_NOT_ALLOWED',
    400,
    false,
    'The node asked for env keys the agent operator does not allow.',
    'Add the keys to the agent allowlist or remove them from the node.',
  ],
  [
    'OPTIONAL_DEPENDENCY_MISSING',
    500,
    false,
    'A feature needs an optional peer dependency that is not installed (dockerode for the Docker sandbox, @opentelemetry/api for `tracing`).',
    'Install the package the message names next to the Vespid package (e.g. npm i dockerode), or turn the option off.',
  ],
  ['WORKDIR_ESCAPE', 400, false, 'A run or node id would place the workdir outside the workdir root.', 'Use plain ids.'],
  [
    'NETWORK_NOT_ALLOWED',
    400,
    false,
    'The node asked for network access the agent operator does not allow.',
    'Allow network on the agent or remove the opt-in.',
  ],
  [
    'PAIRING_TOKEN_INVALID',
    401,
    false,
    'The pairing token is unknown, malformed or already used.',
    'Create a new pairing token (they are single-use and live 15 minutes).',
  ],
  [
    'PAIRING_TOKEN_EXPIRED',
    400,
    false,
    'The pairing token is past its expiry (they live 15 minutes) and was never used.',
    'Create a new pairing token and pair within 15 minutes.',
  ],
  [
    'SECRETS_KEK_INVALID',
    500,
    false,
    'SECRETS_KEK_BASE64 does not decode to 32 bytes (or SECRETS_KEK_ID is missing).',
    'Set a 32-byte base64 key.',
  ],
  [
    'SECRET_DECRYPT_FAILED',
    500,
    false,
    'A stored secret failed authentication when decrypted (tampered or wrong key).',
    'Rotate the secret; check the KEK id.',
  ],
  ['INVALID_WORKFLOW', 400, false, 'The workflow DSL failed validation.', 'Fix the workflow; the issues are listed.'],
  [
    'AGENT_CONFIG_INVALID',
    500,
    false,
    'The node-agent configuration (options, environment, config file or TLS CA file) is invalid or unreadable.',
    'Fix the named setting; the message says which one and why.',
  ],
  [
    'DESTINATION_NOT_ALLOWED',
    403,
    false,
    "A connector request was refused before connecting: the destination resolves to a loopback, link-local (cloud metadata), private or other special-purpose address, or to one outside the host's destination allowlist.",
    'Call a public address, or have the operator add the destination to WORKFLOW_HTTP_ALLOWLIST (worker, cloud mode) or VESPID_AGENT_HTTP_ALLOWLIST (agent).',
  ],
  [
    'DOCKER_WORKDIR_FULL',
    507,
    false,
    'The sandbox script ran out of writable space (ENOSPC): /work is bounded by VESPID_AGENT_DOCKER_WORKDIR_MAX_MB, /tmp by its tmpfs size.',
    'Write less data, or raise VESPID_AGENT_DOCKER_WORKDIR_MAX_MB (and the memory limit with it) on the agent.',
  ],
  [
    'IMAGE_NOT_ALLOWED',
    400,
    false,
    "The node asked for a Docker image that is not on the agent's image allowlist.",
    'Use the agent image, or have the operator add the image to VESPID_AGENT_DOCKER_IMAGE_ALLOWLIST.',
  ],
  [
    'AGENT_RESTARTED',
    503,
    true,
    'The agent restarted (crash, kill or host reboot) while the task was queued or running; it reported the task from its outbox journal on reconnect. The task may have had partial effects.',
    'Retry (the task is reported at once instead of at its deadline); check why the agent restarted.',
  ],
  [
    'AGENT_OUTBOX_FULL',
    503,
    true,
    'The agent refused the task because its result outbox holds as many unacknowledged results as it may (the gateway is not acknowledging them).',
    'Retry later; check that the gateway can store results (Redis) and acknowledges them. Bound: VESPID_AGENT_OUTBOX_MAX_ENTRIES / _MAX_BYTES.',
  ],
  [
    'QUEUE_FULL',
    429,
    true,
    'The organization already has the maximum number of dispatches waiting for an agent (GATEWAY_ORG_MAX_QUEUED).',
    'Add agents or capacity for the organization, or retry later; raise GATEWAY_ORG_MAX_QUEUED if the backlog is expected.',
  ],
  [
    'CONTROL_PLANE_UNREACHABLE',
    503,
    true,
    'The node-agent could not reach the control plane (pairing or deregistration): connection refused, DNS, timeout or TLS.',
    'Check --api-base (the api, not the gateway) and that it is reachable from the agent; the message names the network error.',
  ],
] as const satisfies ReadonlyArray<readonly [string, number, boolean, string, string]>;

/**
 * Every entry of the catalogue, in documentation order.
 *
 * @example
 * ```ts
 * for (const { code, retryable, meaning } of ERROR_CODES) console.log(code, retryable, meaning);
 * ```
 */
export const ERROR_CODES: readonly ErrorCodeInfo[] = entries.map(([code, httpStatus, retryable, meaning, action]) => ({
  code,
  httpStatus,
  retryable,
  meaning,
  action,
}));

type EntryCode = (typeof entries)[number][0];
/**
 * Non-parametric codes as a string-literal union.
 *
 * @example
 * ```ts
 * const code: StaticErrorCode = 'NO_AGENT_AVAILABLE';
 * ```
 */
export type StaticErrorCode = Exclude<EntryCode, `${string}<${string}`>;
/**
 * Any code of the catalogue, parametric ones included.
 *
 * @example
 * ```ts
 * const code: ErrorCode = dockerExitCode(2); // 'DOCKER_EXIT_CODE:2'
 * ```
 */
export type ErrorCode = StaticErrorCode | `DOCKER_EXIT_CODE:${number}` | `ACTION_NOT_SUPPORTED:${string}:${string}`;

/**
 * Named constants for the static codes, to avoid typos: `ErrorCodes.NO_AGENT_AVAILABLE`.
 *
 * @example
 * ```ts
 * throw new VespidError(ErrorCodes.NO_AGENT_AVAILABLE, 'no agent for org o1');
 * ```
 */
export const ErrorCodes = Object.freeze(Object.fromEntries(entries.filter(([c]) => !c.includes('<')).map(([c]) => [c, c]))) as {
  readonly [K in StaticErrorCode]: K;
};

const byCode = new Map(ERROR_CODES.map((e) => [e.code, e]));

/**
 * `DOCKER_EXIT_CODE:<n>` for an exit status.
 *
 * @example
 * ```ts
 * return { status: 'failed', error: { code: dockerExitCode(exitCode), message: `script exited with ${exitCode}` } };
 * ```
 */
export function dockerExitCode(exitCode: number): `DOCKER_EXIT_CODE:${number}` {
  return `DOCKER_EXIT_CODE:${exitCode}`;
}

/**
 * `ACTION_NOT_SUPPORTED:<connector>:<action>`.
 *
 * @example
 * ```ts
 * throw new AgentError(actionNotSupported('github', 'repo.delete'), 'github has no action repo.delete');
 * ```
 */
export function actionNotSupported(connectorId: string, actionId: string): `ACTION_NOT_SUPPORTED:${string}:${string}` {
  return `ACTION_NOT_SUPPORTED:${connectorId}:${actionId}`;
}

/**
 * Looks a code up in the catalogue; parametric codes match their family. Unknown codes return undefined.
 *
 * @example
 * ```ts
 * errorCodeInfo('DOCKER_EXIT_CODE:137')?.retryable; // false (matched by family)
 * ```
 */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  const direct = byCode.get(code);
  if (direct) return direct;
  if (/^DOCKER_EXIT_CODE:-?\d+$/.test(code)) return byCode.get('DOCKER_EXIT_CODE:<n>');
  if (/^ACTION_NOT_SUPPORTED:[^:]+:.+$/.test(code)) return byCode.get('ACTION_NOT_SUPPORTED:<connector>:<action>');
  return undefined;
}

/**
 * Whether a string is a code of the catalogue (parametric codes by family). Use it on codes received
 * over the wire before treating them as {@link ErrorCode}: a newer peer may send a code this version
 * does not know.
 *
 * @example
 * ```ts
 * const code: ErrorCode = isErrorCode(body.code) ? body.code : 'GATEWAY_RESPONSE_INVALID';
 * ```
 */
export function isErrorCode(code: string): code is ErrorCode {
  return errorCodeInfo(code) !== undefined;
}

/**
 * Whether a code is retryable according to the catalogue (unknown codes are not).
 *
 * @example
 * ```ts
 * if (isRetryableCode(result.error.code)) scheduleRetry(run, node);
 * ```
 */
export function isRetryableCode(code: string): boolean {
  return errorCodeInfo(code)?.retryable ?? false;
}
