/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`, which `bench/run.ts --profile DIR` turns
 * on for every sync process): self time per source file and per function, top N, so a slow step
 * of the table points at code. `node bench/profile-summary.ts FILE.cpuprofile [N]`.
 */
import { readFileSync } from 'node:fs';

interface CpuNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: CpuNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const shortUrl = (u: string): string => {
  if (u === '') return '(native/V8)';
  const m = /node_modules\/(.+)$/.exec(u);
  if (m) return `npm:${m[1]}`;
  const r = /\/(src|bench|test)\/(.+)$/.exec(u);
  return r ? `${r[1]}/${r[2]}` : u.replace(/^file:\/\//, '');
};

/** The layer a sample's own code belongs to, so a step's time splits into read / plan / store / runtime. */
export function layerOf(file: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle (waiting on slapd / the database)';
  if (file.startsWith('src/directory/') || file.startsWith('npm:ldapts') || file.startsWith('npm:asn1')) return 'directory read (src/directory, ldapts)';
  if (file.startsWith('src/core/')) return 'plan (src/core)';
  if (file.startsWith('src/store/') || /^npm:(kysely|pg|pg-[a-z]+|postgres-[a-z]+)\//.test(file)) return 'store (src/store, kysely, pg, sqlite)';
  if (file.startsWith('src/')) return 'sync shell, CLI, config (other src/)';
  if (file.startsWith('node:') || file === '(native/V8)') return 'Node and V8 runtime (buffers, sockets, module loading…)';
  return 'other';
}

/** Self time (ms) per file and per function, sorted descending. */
export function summarizeProfile(p: CpuProfile, top = 15): { totalMs: number; layers: Array<[string, number]>; files: Array<[string, number]>; functions: Array<[string, number]> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const files = new Map<string, number>();
  const fns = new Map<string, number>();
  const layers = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const f = shortUrl(n.callFrame.url);
    files.set(f, (files.get(f) ?? 0) + ms);
    const name = `${n.callFrame.functionName || '(anonymous)'} ${f}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + ms);
    const l = layerOf(f, n.callFrame.functionName);
    layers.set(l, (layers.get(l) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { totalMs: (p.endTime - p.startTime) / 1000, layers: sorted(layers), files: sorted(files), functions: sorted(fns) };
}

/** Printable lines of a summary. */
export function renderProfile(file: string, top = 15): string[] {
  const s = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top);
  const pct = (ms: number): string => `${(ms / 1000).toFixed(2)} s ${((100 * ms) / s.totalMs).toFixed(1).padStart(5)} %`;
  return [
    `profile ${file}: ${(s.totalMs / 1000).toFixed(2)} s`,
    '  self time by layer:', ...s.layers.map(([f, ms]) => `    ${pct(ms)}  ${f}`),
    '  self time by file:', ...s.files.map(([f, ms]) => `    ${pct(ms)}  ${f}`),
    '  self time by function:', ...s.functions.map(([f, ms]) => `    ${pct(ms)}  ${f}`),
  ];
}

if (import.meta.main) {
  const [file, n] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node bench/profile-summary.ts FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  for (const l of renderProfile(file, n === undefined ? 15 : Number(n))) process.stdout.write(`${l}\n`);
}
