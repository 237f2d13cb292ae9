import { describe, expect, it } from 'vitest';
import { quickstart } from './quickstart.js';

describe('quickstart', () => {
  it('runs a custom executor through a gateway embedded in Fastify and returns its output', async () => {
    expect(await quickstart({ port: 0 })).toEqual({ greeting: 'hello, world' });
  });
});
