// HTTP for the Ads API client: one undici connection pool per origin with keep-alive,
// explicit connect and request timeouts, and transport failures turned into Transient
// errors (timeout or connection), never left as raw socket errors.
import { Agent, request, type Dispatcher } from 'undici';
import { Transient } from '../domain/errors.js';
import type { RawResponse } from './classify.js';

export interface HttpOptions {
  /** Time to establish a TCP connection. */
  connectTimeoutMs: number;
  /** Whole-request deadline, from sending to the last byte of the answer. */
  requestTimeoutMs: number;
  /** Pooled connections per origin (regional host); bounds concurrent calls to it. */
  connectionsPerOrigin: number;
  /** How long an idle pooled connection is kept. */
  keepAliveMs: number;
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 35_000, // Amazon's gateway gives up at about 29 s with a 504
  connectionsPerOrigin: 64,
  keepAliveMs: 30_000,
};

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpTransport {
  send(req: HttpRequest): Promise<RawResponse>;
  close(): Promise<void>;
}

export function createHttpTransport(options: HttpOptions = DEFAULT_HTTP_OPTIONS): HttpTransport {
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    connections: options.connectionsPerOrigin,
    keepAliveTimeout: options.keepAliveMs,
    keepAliveMaxTimeout: options.keepAliveMs,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
  });
  return {
    async send(req) {
      try {
        const res: Dispatcher.ResponseData = await request(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body,
          dispatcher: agent,
          signal: AbortSignal.timeout(options.requestTimeoutMs),
        });
        const body = await res.body.text();
        return { status: res.statusCode, headers: res.headers, body };
      } catch (error) {
        throw transportFailure(error, req);
      }
    },
    close: () => agent.close(),
  };
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function transportFailure(error: unknown, req: HttpRequest): Transient {
  const e = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? e.name ?? 'UNKNOWN';
  const isTimeout = TIMEOUT_CODES.has(code) || e.name === 'TimeoutError' || e.name === 'AbortError';
  const target = `${req.method} ${new URL(req.url).pathname}`;
  return isTimeout
    ? new Transient(`${target} timed out (${code})`, 'timeout')
    : new Transient(`${target} failed: ${e.message ?? code} (${code})`, 'connection');
}
