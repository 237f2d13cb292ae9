/**
 * Regression (found by the chaos fuzz of api bodies): a JSON body carrying a NUL character (valid JSON,
 * `\u0000`) passed validation and made Postgres refuse the INSERT ("invalid byte sequence for encoding
 * UTF8: 0x00"); the api answered 500 INTERNAL_ERROR. Input the database cannot store is the client's
 * error: 400 BAD_REQUEST with `{code, message}`, and nothing is stored.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../../../test/services.js';
import { type TestApi, startTestApi } from '../test/testing.js';

await describeWith(['postgres', 'redis'], 'api: input Postgres cannot store', () => {
  let api: TestApi;
  let org: { orgId: string; accessToken: string };

  beforeAll(async () => {
    api = await startTestApi();
    org = await api.org();
  });

  afterAll(async () => {
    await api.close();
  });

  const node = { id: 'n1', type: 'connector.action', config: { connectorId: 'http', actionId: 'request', input: { note: 'a\u0000b' } } };

  it.each([
    [
      'a workflow whose DSL carries a NUL',
      'workflows',
      { name: 'w', dsl: { version: 1, trigger: { type: 'trigger.manual' }, nodes: [node] } },
    ],
    [
      'a workflow name with a NUL',
      'workflows',
      {
        name: 'w\u0000x',
        dsl: { version: 1, trigger: { type: 'trigger.manual' }, nodes: [{ ...node, config: { ...node.config, input: {} } }] },
      },
    ],
  ])('answers 400 BAD_REQUEST for %s', async (_what, path, body) => {
    const res = await api.call('POST', `/v1/orgs/${org.orgId}/${path}`, { token: org.accessToken, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'BAD_REQUEST', message: expect.any(String) });
    const list = await api.call('GET', `/v1/orgs/${org.orgId}/workflows`, { token: org.accessToken });
    expect(JSON.stringify(list.body)).not.toContain('a\\u0000b');
  });
});
