import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadSecretValue, parseKek } from '@vespid/example-db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATABASE_URL, describeWith } from '../../../test/services.js';
import { startApiHost } from './host.js';
import { createApiLogger } from './logger.js';
import { TEST_KEK_BASE64, type TestApi, dumpSchema, startTestApi } from '../test/testing.js';

await describeWith(['postgres', 'redis'], 'api connector secrets', () => {
  let api: TestApi;
  let org: { orgId: string; userId: string; accessToken: string };
  let other: { orgId: string; userId: string; accessToken: string };
  const kek = parseKek({ kekId: 'test-kek', kekBase64: TEST_KEK_BASE64 });
  const canary = `canary-${randomUUID()}`;
  const rotated = `canary-rotated-${randomUUID()}`;
  const responses: string[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    org = await api.org('Secrets');
    other = await api.org('Other');
  });
  afterAll(() => api?.close());

  const call = async (...args: Parameters<TestApi['call']>) => {
    const res = await api.call(...args);
    responses.push(res.text);
    return res;
  };

  it('creates, lists, rotates and deletes a secret without ever returning its value', async () => {
    const created = await call('POST', `/v1/orgs/${org.orgId}/secrets`, {
      token: org.accessToken,
      body: { name: 'github', connectorId: 'github', value: canary },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'github',
      connectorId: 'github',
      kekId: 'test-kek',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const secretId = created.body.id as string;
    expect(await loadSecretValue(api.pool, kek, { organizationId: org.orgId, secretId })).toBe(canary);

    const dup = await call('POST', `/v1/orgs/${org.orgId}/secrets`, {
      token: org.accessToken,
      body: { name: 'github', connectorId: 'github', value: 'x' },
    });
    expect(dup.status).toBe(409);

    const list = await call('GET', `/v1/orgs/${org.orgId}/secrets`, { token: org.accessToken });
    expect(list.body.secrets.map((s: { id: string }) => s.id)).toEqual([secretId]);
    expect((await call('GET', `/v1/orgs/${org.orgId}/secrets/${secretId}`, { token: org.accessToken })).body.name).toBe('github');

    const rotate = await call('PUT', `/v1/orgs/${org.orgId}/secrets/${secretId}`, { token: org.accessToken, body: { value: rotated } });
    expect(rotate.status).toBe(200);
    expect(await loadSecretValue(api.pool, kek, { organizationId: org.orgId, secretId })).toBe(rotated);

    // Tenant isolation: another org can neither see, rotate, delete nor decrypt it.
    expect((await call('GET', `/v1/orgs/${other.orgId}/secrets/${secretId}`, { token: other.accessToken })).status).toBe(404);
    expect(
      (await call('PUT', `/v1/orgs/${other.orgId}/secrets/${secretId}`, { token: other.accessToken, body: { value: 'y' } })).status,
    ).toBe(404);
    expect((await call('DELETE', `/v1/orgs/${other.orgId}/secrets/${secretId}`, { token: other.accessToken })).status).toBe(404);
    await expect(loadSecretValue(api.pool, kek, { organizationId: other.orgId, secretId })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    expect((await call('DELETE', `/v1/orgs/${org.orgId}/secrets/${secretId}`, { token: org.accessToken })).status).toBe(204);
    expect((await call('GET', `/v1/orgs/${org.orgId}/secrets`, { token: org.accessToken })).body.secrets).toEqual([]);
  });

  it('refuses tampered ciphertext and a row moved to another org with SECRET_DECRYPT_FAILED', async () => {
    const created = await call('POST', `/v1/orgs/${org.orgId}/secrets`, {
      token: org.accessToken,
      body: { name: 'tamper', connectorId: 'http', value: canary },
    });
    const secretId = created.body.id as string;
    await api.pool.query(
      "UPDATE connector_secrets SET value_ciphertext = overlay(value_ciphertext placing '\\xff'::bytea from 1 for 1) WHERE id = $1",
      [secretId],
    );
    await expect(loadSecretValue(api.pool, kek, { organizationId: org.orgId, secretId })).rejects.toMatchObject({
      code: 'SECRET_DECRYPT_FAILED',
    });

    const second = await call('POST', `/v1/orgs/${org.orgId}/secrets`, {
      token: org.accessToken,
      body: { name: 'moved', connectorId: 'http', value: canary },
    });
    await api.pool.query('UPDATE connector_secrets SET organization_id = $2 WHERE id = $1', [second.body.id, other.orgId]);
    await expect(loadSecretValue(api.pool, kek, { organizationId: other.orgId, secretId: second.body.id })).rejects.toMatchObject({
      code: 'SECRET_DECRYPT_FAILED',
    });
  });

  it('never lets the canary value reach a response, a log line or a stored column in clear', async () => {
    const bad = await call('POST', `/v1/orgs/${org.orgId}/secrets`, {
      token: org.accessToken,
      body: { name: '', connectorId: 'NOT VALID', value: canary },
    });
    expect(bad.status).toBe(400);
    for (const text of responses) {
      expect(text).not.toContain(canary);
      expect(text).not.toContain(rotated);
    }
    const logs = api.logs.join('\n');
    expect(api.logs.some((l) => l.includes('secret created'))).toBe(true);
    expect(logs).not.toContain(canary);
    expect(logs).not.toContain(rotated);
    const dump = await dumpSchema(api.pool, api.schema);
    expect(dump).not.toContain(canary);
    expect(dump).not.toContain(Buffer.from(canary).toString('hex'));
  });
});

await describeWith(['postgres'], 'api host KEK validation', () => {
  it('refuses to start with SECRETS_KEK_INVALID when the KEK is not 32 bytes, without echoing it', async () => {
    const lines: string[] = [];
    const logger = createApiLogger({
      destination: new Writable({
        write(c, _e, cb) {
          lines.push(String(c));
          cb();
        },
      }),
    });
    const short = randomBytes(16).toString('base64');
    const env = { DATABASE_URL, SECRETS_KEK_ID: 'k1', SECRETS_KEK_BASE64: short, API_PORT: '0', API_HOST: '127.0.0.1' };
    let caught: unknown;
    try {
      await startApiHost(env, { logger });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'SECRETS_KEK_INVALID' });
    expect((caught as Error).message).toMatch(/32 bytes/);
    expect((caught as Error).message).not.toContain(short);
    expect(lines.join('')).not.toContain(short);
    await expect(startApiHost({ ...env, SECRETS_KEK_BASE64: undefined }, { logger })).rejects.toMatchObject({
      code: 'SECRETS_KEK_INVALID',
    });
  });
});
