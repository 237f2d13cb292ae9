import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, kekFromEnv, parseKek } from './secrets.js';

const kek = parseKek({ kekId: 'k1', kekBase64: randomBytes(32).toString('base64') });
const binding = { organizationId: randomUUID(), secretId: randomUUID() };

describe('connector secret envelope', () => {
  it('round-trips a value and never stores it in clear', () => {
    const canary = `canary-${randomUUID()}`;
    const env = encryptSecret(kek, binding, canary);
    expect(env.kekId).toBe('k1');
    const stored = Buffer.concat([env.dekIv, env.dekCiphertext, env.dekTag, env.valueIv, env.valueCiphertext, env.valueTag]);
    expect(stored.includes(Buffer.from(canary))).toBe(false);
    expect(decryptSecret(kek, env, binding)).toBe(canary);
  });

  it('uses a fresh data key and IV per encryption', () => {
    const a = encryptSecret(kek, binding, 'same');
    const b = encryptSecret(kek, binding, 'same');
    expect(a.valueCiphertext.equals(b.valueCiphertext)).toBe(false);
    expect(a.dekCiphertext.equals(b.dekCiphertext)).toBe(false);
  });

  it('refuses tampered ciphertext with SECRET_DECRYPT_FAILED', () => {
    const env = encryptSecret(kek, binding, 'value');
    env.valueCiphertext[0] = (env.valueCiphertext[0] ?? 0) ^ 0xff;
    expect(() => decryptSecret(kek, env, binding)).toThrow(expect.objectContaining({ code: 'SECRET_DECRYPT_FAILED' }));
  });

  it('binds the ciphertext to org and secret id (AAD)', () => {
    const env = encryptSecret(kek, binding, 'value');
    expect(() => decryptSecret(kek, env, { ...binding, organizationId: randomUUID() })).toThrow(
      expect.objectContaining({ code: 'SECRET_DECRYPT_FAILED' }),
    );
    expect(() => decryptSecret(kek, env, { ...binding, secretId: randomUUID() })).toThrow(
      expect.objectContaining({ code: 'SECRET_DECRYPT_FAILED' }),
    );
  });

  it('refuses a wrong KEK and picks the right one from a key ring', () => {
    const other = parseKek({ kekId: 'k1', kekBase64: randomBytes(32).toString('base64') });
    const env = encryptSecret(kek, binding, 'value');
    expect(() => decryptSecret(other, env, binding)).toThrow(expect.objectContaining({ code: 'SECRET_DECRYPT_FAILED' }));
    const k2 = parseKek({ kekId: 'k2', kekBase64: randomBytes(32).toString('base64') });
    expect(decryptSecret([k2, kek], env, binding)).toBe('value');
    expect(() => decryptSecret([k2], env, binding)).toThrow(expect.objectContaining({ code: 'SECRET_DECRYPT_FAILED' }));
  });

  it('rejects a KEK that is not 32 bytes with SECRETS_KEK_INVALID, without echoing it', () => {
    const short = randomBytes(16).toString('base64');
    let caught: unknown;
    try {
      kekFromEnv({ SECRETS_KEK_ID: 'k1', SECRETS_KEK_BASE64: short });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'SECRETS_KEK_INVALID' });
    expect(String((caught as Error).message)).not.toContain(short);
    expect(() => kekFromEnv({ SECRETS_KEK_BASE64: randomBytes(32).toString('base64') })).toThrow(
      expect.objectContaining({ code: 'SECRETS_KEK_INVALID' }),
    );
    expect(() => kekFromEnv({ SECRETS_KEK_ID: 'k1', SECRETS_KEK_BASE64: '!!not base64!!' })).toThrow(
      expect.objectContaining({ code: 'SECRETS_KEK_INVALID' }),
    );
    expect(kekFromEnv({ SECRETS_KEK_ID: 'k1', SECRETS_KEK_BASE64: randomBytes(32).toString('base64') }).key).toHaveLength(32);
  });
});
