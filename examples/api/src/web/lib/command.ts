/**
 * The runbook's pairing command, exactly as the `/agents` page shows it.
 */

/**
 * The package filter and script of the runbook command; kept in one place so the page, the docs
 * and the browser test agree.
 *
 * @example
 * ```ts
 * CONNECT_COMMAND_PREFIX; // 'pnpm --filter @vespid/node-agent dev -- connect'
 * ```
 */
export const CONNECT_COMMAND_PREFIX = 'pnpm --filter @vespid/node-agent dev -- connect';

/** Characters that need no shell quoting (pairing tokens are `<uuid>.<base64url>`, URLs usually are too). */
const SHELL_SAFE = /^[A-Za-z0-9_./:@%+=,-]+$/;

/**
 * Quotes a word for POSIX shells only when it needs it, so the usual command stays the runbook's text.
 *
 * @example
 * ```ts
 * shellWord('http://localhost:3001'); // 'http://localhost:3001'
 * shellWord("it's"); // `'it'\''s'`
 * ```
 */
export function shellWord(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * `pnpm --filter @vespid/node-agent dev -- connect --pairing-token <token> --api-base <url>`; a trailing
 * slash of the base URL is dropped.
 *
 * @example
 * ```ts
 * connectCommand({ pairingToken: t, apiBase: 'http://localhost:3001' });
 * ```
 */
export function connectCommand(options: { pairingToken: string; apiBase: string }): string {
  const apiBase = options.apiBase.replace(/\/+$/, '');
  return `${CONNECT_COMMAND_PREFIX} --pairing-token ${shellWord(options.pairingToken)} --api-base ${shellWord(apiBase)}`;
}
