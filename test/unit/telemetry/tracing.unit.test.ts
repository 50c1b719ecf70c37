import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { exporterFor, traceHeaders, traceIdOf, traceparentIn } from '../../../src/telemetry/tracing.js';

describe('tracing configuration', () => {
  it('exports nowhere by default, and to stdout or an OTLP collector when told', () => {
    expect(loadConfig({}).tracing).toEqual({ exporter: 'none', otlpUrl: 'http://127.0.0.1:4318/v1/traces' });
    expect(exporterFor(loadConfig({}).tracing)).toBeUndefined();
    expect(exporterFor(loadConfig({ SLUICE_TRACE_EXPORTER: 'console' }).tracing)).toBeInstanceOf(ConsoleSpanExporter);
    expect(exporterFor(loadConfig({ SLUICE_TRACE_EXPORTER: 'otlp', SLUICE_OTLP_TRACES_URL: 'http://collector:4318/v1/traces' }).tracing)).toBeInstanceOf(OTLPTraceExporter);
    expect(() => loadConfig({ SLUICE_TRACE_EXPORTER: 'jaeger' })).toThrow(/SLUICE_TRACE_EXPORTER/);
  });
});

describe('trace context in Kafka headers', () => {
  it('reads the trace id of a well-formed traceparent only', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7')).toBeNull();
    expect(traceIdOf("'; DROP TABLE jobs; --")).toBeNull();
    expect(traceIdOf(undefined)).toBeNull();
  });

  it('round-trips through headers as kafkajs delivers them (Buffers)', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(traceHeaders(undefined)).toBeUndefined();
    expect(traceparentIn({ traceparent: Buffer.from(traceHeaders(tp)!.traceparent as string) })).toBe(tp);
    expect(traceparentIn({})).toBeUndefined();
    expect(traceparentIn(undefined)).toBeUndefined();
  });
});
