import fs from 'node:fs';

/**
 * Peak memory and CPU time of child processes, read from /proc (Linux). VmHWM is the kernel's own high-water mark of
 * a process's resident set, so sampling now and then cannot miss a short peak; it only has to be read before the
 * process exits, when /proc/<pid> goes away. Hence a sampler that keeps each process's last reading.
 */
export interface ProcessStats {
  pid: number;
  /** Highest resident set size the process reached (VmHWM). */
  peakRssBytes: number;
  /** User + system CPU time the process used. */
  cpuSeconds: number;
}

// /proc/<pid>/stat counts in USER_HZ, which Linux fixes at 100 for user space on every architecture we run on.
const TICKS_PER_SECOND = 100;

export function readProcessStats(pid: number): ProcessStats | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwmKb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
    // Fields after the command name, which is in parentheses and may contain spaces: utime and stime are 14 and 15.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (!Number.isFinite(hwmKb) || !Number.isFinite(ticks)) return undefined;
    return { pid, peakRssBytes: hwmKb * 1024, cpuSeconds: ticks / TICKS_PER_SECOND };
  } catch {
    return undefined; // exited already (or not Linux)
  }
}

export interface ProcessSampler {
  /** Reads every process now (call it right before stopping them: their last reading is what is reported). */
  sample(): void;
  /** Stops sampling and returns each process's last reading. */
  stop(): ProcessStats[];
}

export function sampleProcesses(pids: readonly number[], intervalMs = 500): ProcessSampler {
  const last = new Map<number, ProcessStats>();
  const sample = () => {
    for (const pid of pids) {
      const stats = readProcessStats(pid);
      if (stats) last.set(pid, stats);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    sample,
    stop() {
      clearInterval(timer);
      sample();
      return pids.flatMap((pid) => last.get(pid) ?? []);
    },
  };
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/**
 * CPU seconds (user + system) of this process's children that have exited and been waited for (cutime + cstime of
 * /proc/self/stat): what a command run to its end, such as rclone or the CLI, used. 0 where there is no /proc.
 */
export function exitedChildrenCpuSeconds(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The machine's CPU time so far, in clock ticks: all of it, and the idle part (idle and iowait), from /proc/stat. */
export function machineCpuTicks(): { total: number; idle: number } {
  const stat = (() => {
    try {
      return fs.readFileSync('/proc/stat', 'utf8');
    } catch {
      return '';
    }
  })();
  const ticks = (stat.split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number).filter(Number.isFinite);
  return { total: ticks.reduce((a, b) => a + b, 0) || 1, idle: (ticks[3] ?? 0) + (ticks[4] ?? 0) };
}

/** Share of the machine's CPU time that was busy between two readings of machineCpuTicks (everyone's work counts). */
export function machineBusy(before: { total: number; idle: number }, after: { total: number; idle: number }): number {
  return 1 - (after.idle - before.idle) / (after.total - before.total || 1);
}
