/**
 * The result table: each measured step with its wall time, its ratio to (a) of the same run, the
 * peak RSS of its process tree, its target and a verdict. Targets are the issue's, as ratios.
 */

export interface StepResult {
  id: string;
  label: string;
  wallS: number;
  peakRssMb: number;
  /** Largest allowed ratio to (a); null for (a) itself. */
  maxRatio: number | null;
  /** Largest allowed peak RSS; null when none is set for the step. */
  maxRssMb: number | null;
  /** Extra conditions (rows written, assertions), each failing one makes the verdict MISSED. */
  conditions: Array<{ what: string; ok: boolean }>;
  note: string;
}

export interface Verdict {
  ratio: number | null;
  target: string;
  ok: boolean;
}

export function verdictOf(s: StepResult, refS: number): Verdict {
  const ratio = s.maxRatio === null ? null : s.wallS / refS;
  const parts: string[] = [];
  let ok = true;
  if (s.maxRatio !== null) {
    parts.push(`≤ ${s.maxRatio}×`);
    ok &&= ratio! <= s.maxRatio;
  }
  if (s.maxRssMb !== null) {
    parts.push(`RSS ≤ ${s.maxRssMb} MB`);
    ok &&= s.peakRssMb <= s.maxRssMb;
  }
  for (const c of s.conditions) {
    parts.push(c.what);
    ok &&= c.ok;
  }
  return { ratio, target: parts.join(', ') || 'reference', ok };
}

/** A Markdown table (readable as plain text too). */
export function renderTable(steps: StepResult[]): string {
  const ref = steps.find((s) => s.id === 'a');
  if (ref === undefined) throw new Error('step (a) is missing');
  const rows = steps.map((s) => {
    const v = verdictOf(s, ref.wallS);
    return [`(${s.id}) ${s.label}`, s.wallS.toFixed(2), v.ratio === null ? '1.00' : v.ratio.toFixed(2), s.peakRssMb.toFixed(0), v.target,
      s.id === 'a' ? '—' : v.ok ? 'ok' : 'MISSED', s.note];
  });
  const head = ['step', 'wall s', '× (a)', 'peak RSS MB', 'target', 'verdict', 'notes'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
