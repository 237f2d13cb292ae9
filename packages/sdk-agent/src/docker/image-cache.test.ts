import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ImageFactsCache, ensureImage } from './engine.js';

/** A stand-in engine: which images exist, and how many inspect requests reached it. */
function fakeEngine(present: Set<string>) {
  const seen = { inspects: 0 };
  const docker = {
    getImage: (name: string) => ({
      inspect: async () => {
        seen.inspects++;
        if (!present.has(name)) throw Object.assign(new Error('no such image'), { statusCode: 404 });
        return { Config: { Volumes: { '/data': {} } } };
      },
    }),
  } as unknown as Dockerode;
  return { docker, seen };
}

const signal = new AbortController().signal;

describe('image facts cache', () => {
  it('reuses a present image for the TTL, then asks the engine again', async () => {
    let now = 1_000;
    const cache = new ImageFactsCache(10_000, () => now);
    const { docker, seen } = fakeEngine(new Set(['img:1']));
    expect(await ensureImage(docker, 'img:1', false, signal, cache)).toEqual({ volumes: ['/data'] });
    now += 9_999;
    expect(await ensureImage(docker, 'img:1', false, signal, cache)).toEqual({ volumes: ['/data'] });
    expect(seen.inspects).toBe(1);
    now += 1;
    await ensureImage(docker, 'img:1', false, signal, cache);
    expect(seen.inspects).toBe(2);
  });

  it('never keeps a miss: an absent image fails every time, and is found as soon as it exists', async () => {
    const present = new Set<string>();
    const cache = new ImageFactsCache(10_000);
    const { docker } = fakeEngine(present);
    for (let i = 0; i < 2; i++)
      await expect(ensureImage(docker, 'img:2', false, signal, cache)).rejects.toMatchObject({ code: 'DOCKER_IMAGE_NOT_FOUND' });
    present.add('img:2');
    expect(await ensureImage(docker, 'img:2', false, signal, cache)).toEqual({ volumes: ['/data'] });
  });

  it('forgets an image on request and bounds the number of entries', async () => {
    const cache = new ImageFactsCache(10_000);
    cache.set('a', { volumes: [] });
    cache.forget('a');
    expect(cache.get('a')).toBeUndefined();
    for (let i = 0; i < 200; i++) cache.set(`img:${i}`, { volumes: [] });
    expect(cache.get('img:0')).toBeUndefined();
    expect(cache.get('img:199')).toEqual({ volumes: [] });
  });
});
