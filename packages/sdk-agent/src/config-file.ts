import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { TagSchema, formatZodIssues } from '@vespid/protocol';
import { z } from 'zod';
import { AgentError } from './errors.js';

/**
 * The saved agent identity: what `connect` writes and `start` reads. Contains the agent token.
 *
 * @example
 * ```ts
 * const config = AgentConfigSchema.parse(JSON.parse(text));
 * ```
 */
export const AgentConfigSchema = z.object({
  agentId: z.string().min(1),
  agentToken: z.string().min(1),
  organizationId: z.string().min(1),
  gatewayWsUrl: z.url({ protocol: /^wss?$/ }),
  apiBase: z.url({ protocol: /^https?$/ }),
  name: z.string().min(1),
  tags: z.array(TagSchema).default([]),
});

/**
 * Contents of the agent config file (default `~/.vespid/agent.json`).
 *
 * @example
 * ```ts
 * const config: AgentConfig = { ...creds, apiBase, name: 'edge-1', tags: ['east'] };
 * ```
 */
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

/**
 * `~/.vespid/agent.json`, or `VESPID_AGENT_CONFIG_PATH` when set in `env`.
 *
 * @example
 * ```ts
 * const path = defaultAgentConfigPath(process.env);
 * ```
 */
export function defaultAgentConfigPath(env: Record<string, string | undefined> = {}): string {
  if (env.VESPID_AGENT_CONFIG_PATH) return env.VESPID_AGENT_CONFIG_PATH;
  return join(homedir(), '.vespid', 'agent.json');
}

/**
 * Writes the config atomically (temp file in the same directory, fsync, rename) with mode 0600 in a
 * directory with mode 0700, so a crash never leaves a half-written token file and other users never
 * read the token.
 *
 * @example
 * ```ts
 * await writeAgentConfig('/home/me/.vespid/agent.json', { ...creds, apiBase, name, tags });
 * ```
 */
export async function writeAgentConfig(path: string, config: AgentConfig): Promise<void> {
  const valid = AgentConfigSchema.parse(config);
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked by umask and ignored for existing directories.
  await chmod(dir, 0o700);
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(valid, null, 2)}\n`, 'utf8');
      await fh.chmod(0o600);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new AgentError('AGENT_CONFIG_INVALID', `cannot write agent config ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  }
}

/**
 * Reads and validates the config file. A missing or invalid file is `AGENT_CONFIG_INVALID` with a hint
 * to run `connect` first; the token never appears in the message.
 *
 * @example
 * ```ts
 * const config = await readAgentConfig(defaultAgentConfigPath(process.env));
 * ```
 */
export async function readAgentConfig(path: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? ' (run `connect --pairing-token <token>` first)' : '';
    throw new AgentError('AGENT_CONFIG_INVALID', `cannot read agent config ${path}: ${code ?? 'error'}${hint}`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AgentError('AGENT_CONFIG_INVALID', `agent config ${path} is not valid JSON`);
  }
  const parsed = AgentConfigSchema.safeParse(data);
  if (!parsed.success) {
    const fields = formatZodIssues(parsed.error, { show: 'paths', max: 20 });
    throw new AgentError('AGENT_CONFIG_INVALID', `agent config ${path} is invalid (fields: ${fields})`);
  }
  return parsed.data;
}
