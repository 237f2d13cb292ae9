import { expect, it } from 'vitest';
import { resultStoreConformance } from '../testing/index.js';
import { memoryResultStore } from './result-store.js';

resultStoreConformance('memory', async () => ({ store: memoryResultStore() }));

it('memory store expires results after the TTL and bounds its size', async () => {
  const store = memoryResultStore({ ttlSec: 1, maxEntries: 2 });
  const r = (id: string) => ({ requestId: id, organizationId: 'o', status: 'succeeded' as const, completedAt: 1 });
  await store.put(r('a'));
  await store.put(r('b'));
  await store.put(r('c'));
  expect(await store.get('a')).toBeNull();
  expect(await store.get('c')).not.toBeNull();
  const realNow = Date.now;
  Date.now = () => realNow() + 1500;
  try {
    expect(await store.get('c')).toBeNull();
  } finally {
    Date.now = realNow;
  }
});
