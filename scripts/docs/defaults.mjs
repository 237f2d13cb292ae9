// Defaults: the default the code applies to each runbook variable (obtained by calling the libraries'
// own env readers and option schemas with nothing set) must be the default the runbook and the
// environment reference state. Keeps the operator docs true to the code, mechanically.
import { DockerSandboxOptionsSchema } from '../../packages/sdk-agent/src/docker/options.ts';
import { continuationOptionsFromEnv } from '../../packages/sdk-dispatch/src/runner/options.ts';
import { gatewayOptionsFromEnv } from '../../packages/sdk-gateway/src/env.ts';

/** Variable → the default the code applies, as a string. */
export function codeDefaults() {
  const g = gatewayOptionsFromEnv({});
  const w = continuationOptionsFromEnv({});
  const d = DockerSandboxOptionsSchema.parse({});
  return new Map(
    Object.entries({
      GATEWAY_HOST: g.host,
      GATEWAY_PORT: g.port,
      GATEWAY_LOG_LEVEL: g.logLevel,
      GATEWAY_AGENT_STALE_MS: g.staleMs,
      GATEWAY_AGENT_SELECTION: g.selection,
      GATEWAY_HTTP_URL: g.httpUrl,
      GATEWAY_WS_URL: g.wsUrl,
      GATEWAY_RESULTS_TTL_SEC: g.resultsTtlSec,
      NODE_EXEC_TIMEOUT_MS: w.nodeExecTimeoutMs,
      WORKFLOW_CONTINUATION_QUEUE_NAME: w.queueName,
      WORKFLOW_CONTINUATION_POLL_MS: w.pollMs,
      WORKFLOW_CONTINUATION_CONCURRENCY: w.concurrency,
      VESPID_AGENT_WORKDIR_ROOT: d.workdirRoot,
      VESPID_AGENT_DOCKER_IMAGE: d.image,
      VESPID_AGENT_DOCKER_NETWORK_DEFAULT: d.networkDefault,
      VESPID_AGENT_DOCKER_ALLOW_NETWORK: d.allowNetwork,
      VESPID_AGENT_DOCKER_TIMEOUT_MS: d.timeoutMs,
      VESPID_AGENT_DOCKER_MEMORY_MB: d.memoryMb,
      VESPID_AGENT_DOCKER_CPUS: d.cpus,
      VESPID_AGENT_DOCKER_PIDS: d.pids,
      VESPID_AGENT_DOCKER_OUTPUT_MAX_CHARS: d.outputMaxChars,
      VESPID_AGENT_KEEP_WORKDIRS: d.keepWorkdirs,
      VESPID_AGENT_DOCKER_ALLOW_PULL: d.allowPull,
    }).map(([k, v]) => [k, String(v)]),
  );
}

/** Defaults a markdown text states: "`VAR` (default `X`" and "`VAR=X`" (runbook), and table rows "| `VAR` | `X` |". */
export function statedDefaults(text) {
  const out = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/`([A-Z][A-Z0-9_]+)` \(default `([^`]+)`/g)) out.push({ name: m[1], value: m[2], line: i + 1 });
    for (const m of line.matchAll(/`([A-Z][A-Z0-9_]+)=([^`\s]+)`/g)) out.push({ name: m[1], value: m[2], line: i + 1, assignment: true });
    const row = /^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*`([^`]+)`\s*\|/.exec(line);
    if (row) out.push({ name: row[1], value: row[2], line: i + 1 });
  });
  return out;
}

/**
 * Problems where a doc states a default the code does not apply. `VAR=value` counts as a default only
 * where `assignmentsAreDefaults` (the runbook lists its "Strict profile defaults" that way); elsewhere it
 * may be an example value.
 */
export function checkDefaults(file, text, { assignmentsAreDefaults = false, defaults = codeDefaults() } = {}) {
  const problems = [];
  for (const { name, value, line, assignment } of statedDefaults(text)) {
    const actual = defaults.get(name);
    if (actual === undefined || (assignment && !assignmentsAreDefaults)) continue;
    if (value !== actual) problems.push(`${file}:${line}: ${name} is documented with default ${value}, the code applies ${actual}`);
  }
  return problems;
}
