// The replays this api process is sending (an HTTP replay is answered 202 before its
// items are out, since a paced one can take hours): how far each has got, for its outcome
// link. Bounded: finished ones are kept an hour for late readers, at most `max` in all.

export interface ReplaySending {
  state: 'sending' | 'sent' | 'failed';
  planned: number;
  sent: number;
  error?: string;
}

interface Entry extends ReplaySending {
  tenantId: string;
  endedAt?: number;
}

const KEEP_FINISHED_MS = 60 * 60_000;

export class ReplaysInFlight {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly max = 1_000) {}

  begin(tenantId: string, replayId: string, planned: number): void {
    this.prune();
    this.entries.set(replayId, { tenantId, state: 'sending', planned, sent: 0 });
  }

  progress(replayId: string, sent: number): void {
    const e = this.entries.get(replayId);
    if (e) e.sent = sent;
  }

  end(replayId: string, sent: number): void {
    const e = this.entries.get(replayId);
    if (e) Object.assign(e, { state: 'sent', sent, endedAt: Date.now() });
  }

  fail(replayId: string, error: string): void {
    const e = this.entries.get(replayId);
    if (e) Object.assign(e, { state: 'failed', error, endedAt: Date.now() });
  }

  /** The tenant's replay, if this process is sending it or sent it lately. */
  get(tenantId: string, replayId: string): ReplaySending | undefined {
    const e = this.entries.get(replayId);
    if (!e || e.tenantId !== tenantId) return undefined;
    return { state: e.state, planned: e.planned, sent: e.sent, ...(e.error ? { error: e.error } : {}) };
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, e] of this.entries) if (e.endedAt !== undefined && now - e.endedAt > KEEP_FINISHED_MS) this.entries.delete(id);
    // Still too many: the oldest finished go first (a sending one is never dropped).
    for (const [id, e] of this.entries) {
      if (this.entries.size < this.max) break;
      if (e.endedAt !== undefined) this.entries.delete(id);
    }
  }
}
