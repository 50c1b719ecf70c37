// Sluice as a library, for services that embed it: open the producer runtime once, then
// submit jobs from any iterable of items.
//
//   const sluice = await openProducerRuntime(loadConfig(), logger);
//   const result = await submitJob(sluice, { tenantId: 'acme', operation: 'keyword.setBid' }, items);
import type { ProducerRuntime } from './app/producer-runtime.js';
import { valueItems } from './producers/item-sources.js';
import type { JobRequest, SubmitResult } from './producers/job-submitter.js';

export { loadConfig, type Config } from './config.js';
export { openProducerRuntime, type ProducerRuntime } from './app/producer-runtime.js';
export type { JobRequest, SubmitResult } from './producers/job-submitter.js';
export { createLogger } from './telemetry/logger.js';

/** Validates and submits a job: `{profileId, operation?, payload}` items, in order. */
export function submitJob(runtime: ProducerRuntime, request: JobRequest, items: Iterable<unknown> | AsyncIterable<unknown>): Promise<SubmitResult> {
  return runtime.submitter.submitJob(request, valueItems(items));
}
