/** Process CPU time from /proc (Linux), to show which process saturates during a load step. */
import { readFileSync, readdirSync } from 'node:fs';

/** User + system CPU seconds of `pid`, or NaN when /proc is not available. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU use (cores) of each pid between `start()` and `stop()`. */
export function cpuMeter(pids: Record<string, number>) {
  const t0 = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  return () => {
    const s = (performance.now() - t0) / 1000;
    return Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [k, Math.round(((cpuSeconds(pid) - (before[k] ?? 0)) / s) * 100) / 100]),
    );
  };
}

/**
 * The pid of a local process by its command name (e.g. `redis-server`); when several run, the one whose
 * command line contains `hint` (e.g. `:6379`).
 */
export function pidOf(comm: string, hint?: string): number | undefined {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  let found: string[];
  try {
    found = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => read(`/proc/${d}/comm`).trim() === comm);
  } catch {
    return undefined;
  }
  if (found.length > 1 && hint) found = found.filter((d) => read(`/proc/${d}/cmdline`).includes(hint));
  return found.length === 1 ? Number(found[0]) : undefined;
}
