/**
 * What the realtime benchmarks read about other processes from /proc (Linux): resident memory
 * (`VmRSS`) and CPU time, so a figure can say which process was busy.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = 100;

/** Resident set size of a process in KB (`VmRSS` of /proc/<pid>/status). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name, which is in parentheses and may contain spaces
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds used by each named process between `start()` and `stop()`. */
export function cpuWatch(pids: Readonly<Record<string, number>>): {
  stop(): Record<string, number>;
} {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  return {
    stop: () =>
      Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => [
          k,
          Math.round((cpuSeconds(pid) - before[k]!) * 100) / 100,
        ]),
      ),
  };
}
