import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import tsupConfig from '../tsup.config.js';
import { AGENT_VERSION } from './version.js';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('AGENT_VERSION', () => {
  it('is the package.json version when running from source', () => {
    expect(AGENT_VERSION).toBe(pkg.version);
  });

  it('is inlined from package.json by the build', () => {
    // The built files carry what tsup's define substitutes, not a literal someone must remember to bump.
    const config = Array.isArray(tsupConfig) ? tsupConfig[0] : tsupConfig;
    expect(config).toMatchObject({ define: { __VESPID_AGENT_VERSION__: JSON.stringify(pkg.version) } });
  });
});
