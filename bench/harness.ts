// The one benchmark harness (DESIGN.md, "Benchmarks"): contenders run alternately several
// times, medians are reported, and each scenario writes bench/results/NAME.json and a
// markdown table. Ratios against a baseline measured in the same run, because the
// machine is shared and absolute times drift.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { waitForQuietMachine } from './support/cpu.js';

export interface Scenario {
  name: string;
  description: string;
  /** Runs every contender `runs` times, alternately; returns medians and ratios. */
  run(runs: number): Promise<{ metrics: Record<string, number>; ratios: Record<string, number> }>;
}

export interface BenchResult {
  scenario: string;
  when: string;
  runs: number;
  machine: { cpus: number; memGiB: number };
  metrics: Record<string, number>;
  ratios: Record<string, number>;
}

export const RESULTS_DIR = join(import.meta.dirname, 'results');

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `x` rounded to `digits` decimal places, for reported figures. */
export function round(x: number, digits = 3): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

/**
 * Runs each contender once per round, in turn, for `runs` rounds; returns every sample.
 * Before each run `prepare` (if given) puts shared state back in order, then the run
 * waits for a quiet machine, so none pays for what the one before left behind.
 */
export async function alternate<K extends string, T>(runs: number, contenders: Record<K, () => Promise<T>>, prepare?: () => Promise<void>): Promise<Record<K, T[]>> {
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < runs; round++) {
    for (const [name, run] of Object.entries(contenders) as [K, () => Promise<T>][]) {
      await prepare?.();
      const settled = await waitForQuietMachine();
      if (!settled.quiet) console.error(`bench: the machine was still busy after ${Math.round(settled.waitedMs / 1000)} s; running ${name} anyway`);
      else if (settled.waitedMs > 2000) console.error(`bench: waited ${Math.round(settled.waitedMs / 1000)} s for a quiet machine before ${name}`);
      samples[name].push(await run());
    }
  }
  return samples;
}

export function writeResult(scenario: string, runs: number, outcome: { metrics: Record<string, number>; ratios: Record<string, number> }): BenchResult {
  const result: BenchResult = {
    scenario,
    when: new Date().toISOString(),
    runs,
    machine: { cpus: cpus().length, memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10 },
    ...outcome,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${scenario}.json`), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

export function markdownTable(result: BenchResult): string {
  const rows = [...Object.entries(result.metrics), ...Object.entries(result.ratios).map(([k, v]) => [`ratio ${k}`, v] as const)];
  const fmt = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 3 }));
  return [
    `### ${result.scenario} (median of ${result.runs} runs, ${result.machine.cpus} CPUs, ${result.when})`,
    '',
    '| metric | value |',
    '|---|---:|',
    ...rows.map(([k, v]) => `| ${k} | ${fmt(v)} |`),
    '',
  ].join('\n');
}
