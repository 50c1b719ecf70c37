// The dashboard's one way to the API: the same routes the CLI and curl use, with the
// signed-in token. The types are the server's own (type imports only: nothing of the
// server is bundled), so a change of a response's shape fails the UI's typecheck.
export type { JobProgress, ProfileProgress, ItemCounts, JobStatus } from '../../src/projections/job-progress.js';
export type { JobSummary, ItemView, Page } from '../../src/projections/job-queries.js';
export type { DeadLetterSummary, DeadLetterDetail, ReasonCount, ReplayOutcome } from '../../src/projections/dead-letter-queries.js';
export type { ReplayCounts } from '../../src/producers/dead-letter-replay.js';
export type { TokenScope } from '../../src/db/api-tokens.js';
import type { TokenScope } from '../../src/db/api-tokens.js';

/** What GET /v1/whoami says of a token. */
export interface Identity {
  tenantId: string;
  scope: TokenScope;
  name: string;
  jobId: string | null;
}

/** An answer the API refused, with its own message (it names the field or the reason). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | undefined>;

export class ApiClient {
  constructor(private readonly token: string) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.call<T>('GET', withQuery(path, query));
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new ApiError(res.status, String(answer.error ?? res.status), String(answer.message ?? res.statusText), answer);
    return answer as T;
  }

  /**
   * A Server-Sent Events stream read with fetch (EventSource cannot send the token): each
   * event's name and parsed data, until the server ends it or `signal` aborts.
   */
  async *events(path: string, signal: AbortSignal): AsyncGenerator<{ event: string; data: unknown }> {
    const res = await fetch(path, { headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' }, signal });
    if (!res.ok || !res.body) {
      const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      throw new ApiError(res.status, String(answer.error ?? res.status), String(answer.message ?? res.statusText), answer);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event = block.match(/^event: (.*)$/m)?.[1] ?? 'message';
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        yield { event, data: JSON.parse(data) as unknown };
      }
    }
  }
}

export function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Asks the API who the token is: undefined when it is not a valid token. */
export async function identify(token: string): Promise<Identity | undefined> {
  try {
    return await new ApiClient(token).get<Identity>('/v1/whoami');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
}
