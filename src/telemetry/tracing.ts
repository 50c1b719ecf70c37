// W3C trace context through the pipeline (OpenTelemetry). A submission starts a span
// (child of the caller's `traceparent`, if it sent one); its traceparent travels in the
// Kafka headers of the job's events and every item command; the executor runs each item
// in a span under it and puts that span's traceparent on the item's results and dead
// letter; the projector stores the trace id with the item. A replay starts its own span
// and its commands carry that. Spans are made whether or not they are exported:
// exporting is off unless SLUICE_TRACE_EXPORTER says otlp or console.
import { isSpanContextValid, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { IHeaders } from 'kafkajs';

export const TRACE_EXPORTERS = ['none', 'otlp', 'console'] as const;
export type TraceExporterName = (typeof TRACE_EXPORTERS)[number];
export interface TracingConfig {
  exporter: TraceExporterName;
  /** The OTLP/HTTP traces endpoint, for `otlp`. */
  otlpUrl: string;
}

/** The Kafka header (and HTTP header) that carries the context, as W3C names it. */
export const TRACEPARENT = 'traceparent';

let provider: BasicTracerProvider | undefined;

/**
 * Installs the process's tracer provider and the W3C propagator, once: the first caller's
 * exporter wins (a test may install one that keeps spans in memory before any runtime).
 */
export function startTracing(serviceName: string, exporterOf: () => SpanExporter | undefined): void {
  if (provider) return;
  const exporter = exporterOf();
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: exporter ? [new BatchSpanProcessor(exporter)] : [],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

export function exporterFor(config: TracingConfig): SpanExporter | undefined {
  switch (config.exporter) {
    case 'none':
      return undefined;
    case 'console':
      return new ConsoleSpanExporter();
    case 'otlp':
      return new OTLPTraceExporter({ url: config.otlpUrl });
  }
}

/** Sends what is buffered (the exporter batches); call before the process exits. */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush();
}

/** A span under the context a traceparent carries (a new trace without one), started now or at `startTime` (epoch ms). */
export function startSpan(name: string, parent: string | undefined, attributes: Attributes, startTime?: number): Span {
  const context = parent ? propagation.extract(ROOT_CONTEXT, { [TRACEPARENT]: parent }) : ROOT_CONTEXT;
  return trace.getTracer('sluice').startSpan(name, { attributes, ...(startTime === undefined ? {} : { startTime }) }, context);
}

/** Ends a span, marked failed if `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/**
 * The traceparent naming this span as the parent of what follows (undefined without
 * tracing), written directly: this runs for every item, and the propagator's way builds
 * a context and a carrier each time for the same string.
 */
export function traceparentOf(span: Span): string | undefined {
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!isSpanContextValid(span.spanContext())) return undefined;
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

/** Kafka headers carrying a traceparent, or none. */
export function traceHeaders(traceparent: string | undefined): IHeaders | undefined {
  return traceparent ? { [TRACEPARENT]: traceparent } : undefined;
}

/** The traceparent of a Kafka record, if it has one. */
export function traceparentIn(headers: IHeaders | undefined): string | undefined {
  const value = headers?.[TRACEPARENT];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** The trace id a traceparent names (`00-<trace id>-<span id>-<flags>`), if it is well formed. */
export function traceIdOf(traceparent: string | undefined): string | null {
  const m = traceparent?.match(/^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/);
  return m ? m[1]! : null;
}
