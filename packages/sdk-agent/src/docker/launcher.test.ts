import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { launcherPreamble, shQuote } from './launcher.js';

const sh = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8' });

describe('warm container launcher preamble', () => {
  it('quotes any value so the shell reads it back verbatim', () => {
    for (const v of ['', 'plain', "it's", `'"'"'`, '$HOME `id` $(id) \\n', 'line1\nline2\n\n', '*?[a]{b} ; && | > <']) {
      expect(sh(`printf '%s' ${shQuote(v)}`)).toBe(v);
    }
  });

  it('writes the script and makes it read-only before exporting the env, then execs the task shell', () => {
    const text = launcherPreamble({ env: ['A=1', "SECRET=x'y", 'EMPTY='], script: "echo 'hi'", shell: 'sh' }).toString('utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`printf '%s' 'echo '\\''hi'\\''' > /vespid/task.sh || exit 125`);
    expect(lines[1]).toMatch(/^chmod 0444 \/vespid\/task\.sh && chmod 0555 \/vespid/);
    expect(lines.slice(2)).toEqual([
      'unset SHLVL',
      "export A='1'",
      "export SECRET='x'\\''y'",
      "export EMPTY=''",
      "exec 'sh' /vespid/task.sh",
    ]);
  });

  it('gives the exported env exactly the values of the entries (evaluated by a real sh)', () => {
    const env = ['A=1', 'Q=it\'s "quoted" $HOME', 'NL=a\nb', 'EQ=x=y'];
    const lines = launcherPreamble({ env, script: 'true', shell: 'sh' }).toString('utf8').trimEnd().split('\n');
    // Without the script write (lines 1–2), the unset and the exec (last line): only the exports.
    const exports = lines.slice(3, -1).join('\n');
    const printed = sh(`${exports}\nprintf '%s\\0' "A=$A" "Q=$Q" "NL=$NL" "EQ=$EQ"`);
    expect(printed.split('\0').filter(Boolean)).toEqual(env);
  });

  it('refuses an env name that would be shell syntax', () => {
    expect(() => launcherPreamble({ env: ['A;rm -rf /=1'], script: 'true', shell: 'sh' })).toThrow(/env name/);
  });
});
