import { readFile } from 'node:fs/promises';
import { UsageError } from './exit-codes.js';

/** Where the pairing token can come from, in the order the CLI looks. */
export interface PairingTokenSources {
  /** `--pairing-token` or `VESPID_PAIRING_TOKEN`. */
  token?: string | undefined;
  /** `--pairing-token-file <path>` or `VESPID_PAIRING_TOKEN_FILE`; `-` reads standard input. */
  file?: string | undefined;
  /** Standard input, injectable for tests. */
  stdin?: NodeJS.ReadableStream;
}

/**
 * Resolves the pairing token. A file or stdin keeps it out of `ps` and the shell history; the first
 * non-empty line is the token (so `echo $T > file` and a secret mount both work).
 *
 * @example
 * ```ts
 * const token = await resolvePairingToken({ file: '/run/secrets/vespid_pairing_token' });
 * ```
 */
export async function resolvePairingToken(sources: PairingTokenSources): Promise<string> {
  if (sources.token && sources.file) {
    throw new UsageError('give the pairing token once: --pairing-token/VESPID_PAIRING_TOKEN or --pairing-token-file, not both');
  }
  if (sources.token) return sources.token.trim();
  if (!sources.file) {
    throw new UsageError(
      'missing pairing token: pass --pairing-token <token>, set VESPID_PAIRING_TOKEN, or --pairing-token-file <path|-> (create one on the /agents page)',
    );
  }
  let text: string;
  if (sources.file === '-') {
    text = await readAll(sources.stdin ?? process.stdin);
  } else {
    try {
      text = await readFile(sources.file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --pairing-token-file ${sources.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const token = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find(Boolean);
  if (!token) throw new UsageError(`--pairing-token-file ${sources.file === '-' ? '(stdin)' : sources.file} is empty`);
  return token;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    size += b.length;
    // A pairing token is well under 1 KiB; stop reading garbage early.
    if (size > 64 * 1024) break;
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
