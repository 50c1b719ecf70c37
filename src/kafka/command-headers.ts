// Every item-command record names its job in a header, so the executor can tell whose
// record it is without decoding it. Most records a partition's reader meets again (while
// refilling one lane) or leaves in Kafka (a lane with no room) it never decodes; knowing
// their jobs lets it wake a lane held by a paused job only when that job changes.
import type { IHeaders } from 'kafkajs';

export const JOB_HEADER = 'sluice-job';

/** The headers of a job's item commands: its id and, when given, the trace headers. */
export function commandHeaders(jobId: string, trace: IHeaders | undefined): IHeaders {
  return { ...trace, [JOB_HEADER]: jobId };
}

/** The job an item-command record names; undefined for a record written before the header existed. */
export function jobIn(headers: IHeaders | undefined): string | undefined {
  const value = headers?.[JOB_HEADER];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
