// An item's span in the executor, made when it is first needed (the item's first attempt
// or its outcome) but starting when the item was taken. Thousands of items wait in their
// lanes' queues, and a span each (over a kilobyte) was most of the memory they held; an
// item given back to Kafka before anything was tried now leaves no span at all.
import type { Span } from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';
import type { ItemRequested } from '../domain/events.js';
import { endSpan, startSpan, traceHeaders, traceparentOf } from '../telemetry/tracing.js';

export class ItemTrace {
  private made: { span: Span; headers: IHeaders | undefined } | undefined;

  constructor(
    private readonly command: ItemRequested,
    /** The traceparent the item's command carried (its submission's span), if any. */
    private readonly parent: string | undefined,
    private readonly takenAtMs: number,
  ) {}

  /** The item's span under its command's trace. */
  get span(): Span {
    return this.make().span;
  }

  /** The headers the item's records carry: its span's context. */
  get headers(): IHeaders | undefined {
    return this.make().headers;
  }

  /** The item left memory, to be read again: its span, if it has one, ends marked so. */
  givenBack(): void {
    if (!this.made) return;
    this.made.span.setAttribute('sluice.given_back', true);
    endSpan(this.made.span);
  }

  private make(): { span: Span; headers: IHeaders | undefined } {
    if (!this.made) {
      // The item id says the rest (job, index); profile and operation are on the attempts' API-call logs.
      const span = startSpan('sluice.item', this.parent, { 'sluice.item_id': this.command.itemId, 'sluice.replay_generation': this.command.replayGeneration }, this.takenAtMs);
      this.made = { span, headers: traceHeaders(traceparentOf(span)) };
    }
    return this.made;
  }
}
