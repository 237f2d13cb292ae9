/**
 * Connector secrets: AES-256-GCM envelope encryption under a key-encryption key (KEK).
 *
 * A fresh random data key (DEK) encrypts each value; the KEK encrypts the DEK. Both layers carry
 * additional authenticated data (AAD) binding the ciphertext to its organization and secret id, so a
 * row copied to another org or id fails to decrypt instead of leaking. Lives in examples/db because
 * the api encrypts and the worker decrypts (just before a dispatch).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VespidError } from '@vespid/protocol';
import type pg from 'pg';

/**
 * Error of the example-db package (codes from the protocol catalogue).
 *
 * @example
 * ```ts
 * if (err instanceof ExampleDbError && err.code === 'SECRET_DECRYPT_FAILED') failNode(err);
 * ```
 */
export class ExampleDbError extends VespidError {
  constructor(code: 'SECRETS_KEK_INVALID' | 'SECRET_DECRYPT_FAILED' | 'NOT_FOUND', message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'ExampleDbError';
  }
}

/** A key-encryption key. `key` is 32 bytes; never log it. */
export interface Kek {
  readonly id: string;
  readonly key: Buffer;
}

/** The stored envelope (one row of `connector_secrets`, minus metadata). */
export interface SecretEnvelope {
  kekId: string;
  dekIv: Buffer;
  dekCiphertext: Buffer;
  dekTag: Buffer;
  valueIv: Buffer;
  valueCiphertext: Buffer;
  valueTag: Buffer;
}

/** What a ciphertext is bound to. */
export interface SecretBinding {
  organizationId: string;
  secretId: string;
}

const KEK_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Builds a KEK from its id and base64 value; throws `SECRETS_KEK_INVALID` unless the value decodes to
 * exactly 32 bytes. The message never contains the value.
 *
 * @example
 * ```ts
 * const kek = parseKek({ kekId: 'k1', kekBase64: randomBytes(32).toString('base64') });
 * ```
 */
export function parseKek(input: { kekId: string | undefined; kekBase64: string | undefined }): Kek {
  const { kekId, kekBase64 } = input;
  if (!kekId || !KEK_ID_RE.test(kekId)) {
    throw new ExampleDbError('SECRETS_KEK_INVALID', 'SECRETS_KEK_ID is missing or not a plain identifier');
  }
  const b64 = (kekBase64 ?? '').trim();
  // Buffer.from(…, 'base64') silently skips junk, so check the alphabet first.
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) {
    throw new ExampleDbError(
      'SECRETS_KEK_INVALID',
      `SECRETS_KEK_BASE64 must be base64 of exactly 32 bytes (got ${b64 ? `${key.length} bytes` : 'nothing'}); create one with: openssl rand -base64 32`,
    );
  }
  return { id: kekId, key };
}

/**
 * Reads `SECRETS_KEK_ID` / `SECRETS_KEK_BASE64` (runbook names).
 *
 * @example
 * ```ts
 * const kek = kekFromEnv(process.env); // throws SECRETS_KEK_INVALID when unset or not 32 bytes
 * ```
 */
export function kekFromEnv(env: Record<string, string | undefined>): Kek {
  return parseKek({ kekId: env.SECRETS_KEK_ID, kekBase64: env.SECRETS_KEK_BASE64 });
}

function aad(layer: 'dek' | 'value', kekId: string, b: SecretBinding): Buffer {
  return Buffer.from(`vespid:secret:v1:${layer}:${kekId}:${b.organizationId}:${b.secretId}`, 'utf8');
}

function seal(key: Buffer, plaintext: Buffer, additional: Buffer): { iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additional);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

function open(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, additional: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(additional);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/**
 * Encrypts a secret value for `binding` under `kek`.
 *
 * @example
 * ```ts
 * const env = encryptSecret(kek, { organizationId, secretId }, 'ghp_…');
 * ```
 */
export function encryptSecret(kek: Kek, binding: SecretBinding, value: string): SecretEnvelope {
  const dek = randomBytes(32);
  try {
    const v = seal(dek, Buffer.from(value, 'utf8'), aad('value', kek.id, binding));
    const d = seal(kek.key, dek, aad('dek', kek.id, binding));
    return {
      kekId: kek.id,
      dekIv: d.iv,
      dekCiphertext: d.ciphertext,
      dekTag: d.tag,
      valueIv: v.iv,
      valueCiphertext: v.ciphertext,
      valueTag: v.tag,
    };
  } finally {
    dek.fill(0);
  }
}

/**
 * Decrypts an envelope. Throws `SECRET_DECRYPT_FAILED` when the KEK id is unknown, the ciphertext was
 * tampered with, or the row is bound to another org/secret id.
 *
 * @example
 * ```ts
 * const value = decryptSecret(kek, row, { organizationId, secretId });
 * ```
 */
export function decryptSecret(keks: Kek | readonly Kek[], envelope: SecretEnvelope, binding: SecretBinding): string {
  const kek = (Array.isArray(keks) ? keks : [keks as Kek]).find((k) => k.id === envelope.kekId);
  if (!kek) {
    throw new ExampleDbError('SECRET_DECRYPT_FAILED', `secret ${binding.secretId} is encrypted under an unknown KEK id`);
  }
  let dek: Buffer | undefined;
  try {
    dek = open(kek.key, envelope.dekIv, envelope.dekCiphertext, envelope.dekTag, aad('dek', kek.id, binding));
    return open(dek, envelope.valueIv, envelope.valueCiphertext, envelope.valueTag, aad('value', kek.id, binding)).toString('utf8');
  } catch (cause) {
    throw new ExampleDbError('SECRET_DECRYPT_FAILED', `secret ${binding.secretId} failed authentication (tampered or wrong key)`, {
      cause,
    });
  } finally {
    dek?.fill(0);
  }
}

interface EnvelopeRow {
  kek_id: string;
  dek_iv: Buffer;
  dek_ciphertext: Buffer;
  dek_tag: Buffer;
  value_iv: Buffer;
  value_ciphertext: Buffer;
  value_tag: Buffer;
}

/** Maps a `connector_secrets` row to a {@link SecretEnvelope}. @example `decryptSecret(kek, envelopeFromRow(row), binding)` */
export function envelopeFromRow(row: EnvelopeRow): SecretEnvelope {
  return {
    kekId: row.kek_id,
    dekIv: row.dek_iv,
    dekCiphertext: row.dek_ciphertext,
    dekTag: row.dek_tag,
    valueIv: row.value_iv,
    valueCiphertext: row.value_ciphertext,
    valueTag: row.value_tag,
  };
}

/**
 * Loads and decrypts one connector secret of an organization (tenant-scoped query). The worker calls
 * this just before a dispatch; keep the value in memory only.
 * Throws `NOT_FOUND` when the secret does not exist in that org, `SECRET_DECRYPT_FAILED` when it fails.
 *
 * @example
 * ```ts
 * const secret = await loadSecretValue(pool, kek, { organizationId, secretId: node.config.auth.secretId });
 * ```
 */
export async function loadSecretValue(pool: pg.Pool | pg.PoolClient, keks: Kek | readonly Kek[], binding: SecretBinding): Promise<string> {
  const { rows } = await pool.query<EnvelopeRow>(
    `SELECT kek_id, dek_iv, dek_ciphertext, dek_tag, value_iv, value_ciphertext, value_tag
       FROM connector_secrets WHERE organization_id = $1 AND id::text = $2`,
    [binding.organizationId, binding.secretId],
  );
  const row = rows[0];
  if (!row) throw new ExampleDbError('NOT_FOUND', `secret ${binding.secretId} not found`);
  return decryptSecret(keks, envelopeFromRow(row), binding);
}
