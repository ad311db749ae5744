/**
 * Times one command as a whole process and samples the peak RSS of its process tree.
 *
 * Wall time is process.hrtime from spawn to exit. Peak RSS: every ~10 ms the tree under the
 * root pid is walked through /proc/<pid>/task/<tid>/children and the VmRSS of every member
 * summed; the maximum of those sums is reported. Short-lived children (ldapsearch runs about
 * half a second) are sampled dozens of times, so the peak is not missed by more than one step.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface Measured {
  wallS: number;
  peakRssMb: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Sampling interval; default 10 ms. */
  intervalMs?: number;
  /** Output kept in memory is capped (a sync prints one JSON record, ldapsearch writes to /dev/null). */
  maxOutput?: number;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // gone
  }
  for (const tid of tids) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
    } catch { /* thread or process ended between the two reads */ }
  }
  return out;
}

function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0; // zombies have no VmRSS
  } catch {
    return 0;
  }
}

/** Sum of VmRSS (kB) over `root` and all its descendants right now. */
export function treeRssKb(root: number): number {
  let total = 0;
  const seen = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += rssKb(pid);
    stack.push(...childrenOf(pid));
  }
  return total;
}

/** Runs `cmd args` to its exit; never throws for a non-zero exit (the caller decides). */
export async function measure(cmd: string, args: readonly string[], o: MeasureOptions = {}): Promise<Measured> {
  const cap = o.maxOutput ?? 4 << 20;
  const start = process.hrtime.bigint();
  const child = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  let peak = 0;
  const sample = (): void => {
    if (pid !== undefined) peak = Math.max(peak, treeRssKb(pid));
  };
  sample();
  const timer = setInterval(sample, o.intervalMs ?? 10);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => { if (stdout.length < cap) stdout += b.toString('utf8'); });
  child.stderr.on('data', (b: Buffer) => { if (stderr.length < cap) stderr += b.toString('utf8'); });
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; end: bigint }>((resolve, reject) => {
    child.on('error', (e) => { clearInterval(timer); reject(e); });
    // 'exit' (not 'close'): the wall time ends when the process does, not when pipes drain.
    child.on('exit', (code, signal) => resolve({ code, signal, end: process.hrtime.bigint() }));
  });
  clearInterval(timer);
  await closed;
  return {
    wallS: Number(result.end - start) / 1e9,
    peakRssMb: peak / 1024,
    code: result.code,
    signal: result.signal,
    stdout,
    stderr,
  };
}

/** Shell-quotes one word for printing and for `sh -c` (single quotes, POSIX). */
export function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
