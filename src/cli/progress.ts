/**
 * R53: progress of a run on stderr — phase and entries read — redrawn in place on a terminal,
 * silent otherwise (stdout stays clean for --json and pipes).
 */
import type { SyncProgress } from '../sync/run-sync.ts';

export interface ProgressDisplay {
  update(p: SyncProgress): void;
  /** Clears the progress line. */
  end(): void;
}

const LABEL: Record<SyncProgress['phase'], string> = {
  claim: 'starting',
  read: 'reading directory',
  load: 'loading store',
  plan: 'planning',
  apply: 'applying',
  done: 'done',
};

/** Formats one progress line (exported for tests). */
export function formatProgress(p: SyncProgress): string {
  let s = LABEL[p.phase];
  if (p.phase === 'read' && p.entries !== undefined) s += `: ${p.entries.toLocaleString('en-US')} entries`;
  if (p.phase === 'apply' && p.total !== undefined) s += `: ${p.done ?? 0}/${p.total}`;
  return s;
}

export function createProgress(enabled: boolean, out: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  if (!enabled) return { update() {}, end() {} };
  let last = 0;
  let shown = false;
  return {
    update(p) {
      const t = Date.now();
      // Redraw at most 10 times a second, but always show a phase change.
      if (p.phase === 'read' && p.entries !== 0 && t - last < 100) return;
      last = t;
      out.write(`\r\x1b[2K${formatProgress(p)}`);
      shown = true;
    },
    end() {
      if (shown) out.write('\r\x1b[2K');
    },
  };
}
