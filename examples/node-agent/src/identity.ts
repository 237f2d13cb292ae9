/**
 * The agent's local identity on disk: the config file (`agent.json`, with the token, written by
 * sdk-agent's `writeAgentConfig`) and a small state file beside it (`agent.state.json`: last connection,
 * no secrets). `connect` refuses to overwrite an identity, `remove` deletes both, `status` reads both.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type AgentConfig, readAgentConfig } from '@vespid/sdk-agent';

/** Non-secret facts the running agent records for `status`. */
export interface AgentState {
  lastConnectedAt?: string;
  lastDisconnectedAt?: string;
  lastGatewayWsUrl?: string;
  lastSessionId?: string;
  /** The agent version that last ran with this identity. */
  agentVersion?: string;
}

/** `…/agent.json` → `…/agent.state.json`. */
export function statePathFor(configPath: string): string {
  const base = basename(configPath).replace(/\.json$/, '');
  return join(dirname(configPath), `${base}.state.json`);
}

/** Whether a file exists at the config path (valid or not: either way `connect` must not clobber it). */
export async function identityExists(configPath: string): Promise<boolean> {
  try {
    await stat(configPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The saved identity, or undefined when the file is missing or unreadable (the caller decides). */
export async function tryReadIdentity(configPath: string): Promise<AgentConfig | undefined> {
  try {
    return await readAgentConfig(configPath);
  } catch {
    return undefined;
  }
}

/** Reads the state file; missing or broken is an empty state (it is informational only). */
export async function readAgentState(configPath: string): Promise<AgentState> {
  try {
    const data = JSON.parse(await readFile(statePathFor(configPath), 'utf8')) as unknown;
    return data && typeof data === 'object' ? (data as AgentState) : {};
  } catch {
    return {};
  }
}

/**
 * Merges `patch` into the state file (write to a temp file, then rename, so `status` never reads half a
 * file). Failures are returned, not thrown: the agent keeps running without its status notes.
 */
export async function updateAgentState(configPath: string, patch: AgentState): Promise<Error | undefined> {
  try {
    const path = statePathFor(configPath);
    const next = { ...(await readAgentState(configPath)), ...patch };
    const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.state.tmp`);
    await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, path);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

/** Deletes the config and the state file (the token leaves the disk). */
export async function deleteIdentity(configPath: string): Promise<void> {
  await rm(configPath, { force: true });
  await rm(statePathFor(configPath), { force: true });
}
