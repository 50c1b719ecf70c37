// `sluice submit FILE`: validates and submits a JSON, NDJSON or CSV job straight to Kafka
// (no api process needed), with a progress bar while it reads and while it produces.
// The Idempotency-Key defaults to the file's content hash, so submitting the same file
// twice makes one job.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { openProducerRuntime } from '../../app/producer-runtime.js';
import { csvItems, ndjsonItems, valueItems, type SourceItem } from '../../producers/item-sources.js';
import type { SubmitResult } from '../../producers/job-submitter.js';
import type { JobPreview } from '../../producers/job-preview.js';
import { createLogger } from '../../telemetry/logger.js';
import { cliContext } from '../context.js';

interface SubmitOptions {
  operation?: string;
  label: string[];
  tenant: string;
  idempotencyKey?: string;
  format?: 'json' | 'ndjson' | 'csv';
  dryRun?: boolean;
  withCurrent?: boolean;
  capture: boolean;
}

export function registerSubmitCommand(program: Command): void {
  program
    .command('submit')
    .description('submit a bulk job from a JSON, NDJSON or CSV file')
    .argument('<file>', 'the job: .json ({operation?, items, labels?} or an array), .ndjson/.jsonl, or .csv')
    .option('--operation <name>', 'operation of items that do not name one')
    .option('--label <key:value>', 'a label for the job (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--tenant <id>', 'tenant the job belongs to', 'default')
    .option('--idempotency-key <key>', "defaults to the file's SHA-256")
    .option('--format <format>', 'json, ndjson or csv (default: from the file extension)')
    .option('--dry-run', 'validate and preview (counts, marketplace bounds, duration); submit nothing')
    .option('--with-current', "with --dry-run: read the entities' current values (deltas, no-ops)")
    .option('--no-capture', 'do not read before-images (faster; the job cannot be reverted)')
    .action(async (file: string, opts: SubmitOptions) => {
      const { config } = cliContext();
      const logger = createLogger({ level: 'warn', service: 'cli' });
      const format = opts.format ?? formatOf(file);
      const labels = Object.fromEntries(opts.label.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
      const idempotencyKey = opts.idempotencyKey ?? `sha256:${await fileHash(file)}`;
      const size = (await stat(file)).size;

      const runtime = await openProducerRuntime(config, logger);
      const bar = new cliProgress.SingleBar({ format: ' {phase} [{bar}] {percentage}% | {value}/{total} {unit}', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
      try {
        const read = countingStream(file, (bytes) => bar.update(bytes));
        bar.start(size, 0, { phase: 'validating', unit: 'bytes' });
        let jobOperation = opts.operation;
        let items: AsyncIterable<SourceItem>;
        if (format === 'json') {
          const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
          const body: { items?: unknown[]; operation?: string; labels?: Record<string, string> } = Array.isArray(parsed) ? { items: parsed as unknown[] } : (parsed as object);
          jobOperation ??= body.operation;
          Object.assign(labels, body.labels ?? {});
          items = valueItems(body.items ?? []);
        } else {
          items = format === 'csv' ? csvItems(read, runtime.catalogue, jobOperation, runtime.limits.maxItemBytes) : ndjsonItems(read, runtime.limits.maxItemBytes);
        }
        const request = { tenantId: opts.tenant, operation: jobOperation, labels, idempotencyKey, submittedBy: process.env.USER, captureBefore: opts.capture };
        if (opts.dryRun) {
          const preview = await runtime.previewer.preview(request, items, { withCurrent: opts.withCurrent });
          bar.stop();
          for (const line of previewLines(preview)) console.log(line);
          if (!preview.valid) process.exitCode = 1;
          return;
        }
        let producing = false;
        const result = await runtime.submitter.submitJob(request, items, (phase, count, total) => {
          if (phase === 'producing' && !producing) {
            producing = true;
            bar.stop();
            bar.start(total ?? 0, 0, { phase: 'producing', unit: 'items' });
          }
          if (producing) bar.update(count);
        });
        bar.stop();
        report(result);
      } finally {
        bar.stop();
        await runtime.close();
      }
    });
}

function report(result: SubmitResult): void {
  switch (result.type) {
    case 'accepted':
      console.log(`job ${result.jobId} submitted: ${result.itemCount} items over ${result.profileCount} profiles`);
      return;
    case 'duplicate':
      console.log(`job ${result.jobId} was already submitted with this idempotency key (${result.itemCount} items); nothing new was produced`);
      return;
    case 'conflict':
      console.error(`refused: ${result.reason} (job ${result.jobId})`);
      process.exitCode = 1;
      return;
    case 'rejected':
      console.error(`refused: ${result.errorCount} invalid item field(s); nothing was submitted`);
      for (const e of result.errors) console.error(`  item ${e.index}: ${e.field}: ${e.reason}`);
      if (result.errorCount > result.errors.length) console.error(`  … and ${result.errorCount - result.errors.length} more`);
      process.exitCode = 1;
  }
}

/** A dry run as tables: per operation and profile, the errors, the estimate and the current values. */
export function previewLines(p: JobPreview): string[] {
  const lines = [`dry run: ${p.itemCount} items, ${p.errorCount} invalid (${p.outOfBounds} outside their marketplace's bounds); nothing was submitted`, '', 'OPERATION\tITEMS'];
  for (const [operation, n] of Object.entries(p.operations)) lines.push(`${operation}\t${n}`);
  lines.push('', 'PROFILE\tOPERATION\tITEMS', ...p.profiles.slice(0, 20).map((r) => `${r.profileId}\t${r.operation}\t${r.items}`));
  if (p.profiles.length > 20) lines.push(`… and ${p.profiles.length - 20} more`);
  if (p.errors.length > 0) lines.push('', ...p.errors.map((e) => `item ${e.index}: ${e.field}: ${e.reason}`));
  if (p.errorCount > p.errors.length) lines.push(`… and ${p.errorCount - p.errors.length} more`);
  const slowest = p.estimate.slowestProfile;
  lines.push('', `estimate: ${p.estimate.calls} calls, about ${p.estimate.seconds} s${slowest ? ` (slowest: profile ${slowest.profileId}, ${slowest.items} items in ${slowest.calls} calls at ${slowest.ratePerSecond}/s)` : ''}`);
  if (p.current) {
    const c = p.current;
    lines.push('', `current values: ${c.read} read, ${c.notFound} not found, ${c.noOps} already at their value`);
    for (const [currency, change] of Object.entries(c.dailyBudgetChange)) lines.push(`  daily budgets: ${change >= 0 ? '+' : ''}${change} ${currency} in all`);
    lines.push('  BID CHANGE\tITEMS', ...c.bidChanges.filter((b) => b.items > 0).map((b) => `  ${b.bucket}\t${b.items}`));
  }
  return lines;
}

function formatOf(file: string): 'json' | 'ndjson' | 'csv' {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.json') return 'json';
  throw new Error(`cannot tell the format of ${file}; use --format json|ndjson|csv`);
}

async function fileHash(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function* countingStream(file: string, onBytes: (total: number) => void): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of createReadStream(file)) {
    total += (chunk as Buffer).length;
    onBytes(total);
    yield chunk as Buffer;
  }
}
