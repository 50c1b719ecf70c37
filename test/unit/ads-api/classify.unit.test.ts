// Classification of recorded answers shaped like Amazon's documented examples.
import { describe, expect, it } from 'vitest';
import { classifyCall, classifyMultiStatus, retryAfterMs } from '../../../src/ads-api/classify.js';
import { Permanent, Throttled, Transient } from '../../../src/domain/errors.js';

const res = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('classifyCall', () => {
  it('429 is throttled, with Retry-After seconds when present and without when absent', () => {
    const withHeader = classifyCall(res(429, { message: 'Too Many Requests' }, { 'amazon-advertising-api-throttled': 'true', 'retry-after': '3' }));
    expect(withHeader).toMatchObject({ type: 'failed', error: expect.any(Throttled) });
    expect(withHeader.type === 'failed' && (withHeader.error as Throttled).retryAfterMs).toBe(3000);
    const without = classifyCall(res(429, { message: 'Too Many Requests' }));
    expect(without.type === 'failed' && (without.error as Throttled).retryAfterMs).toBeUndefined();
  });

  it('5xx are transient with their status as kind', () => {
    for (const [status, body] of [
      [500, { code: 'INTERNAL_ERROR', message: 'Service Error' }],
      [502, 'Bad Gateway'],
      [503, ''],
      [504, { message: 'Endpoint request timed out' }],
    ] as const) {
      const out = classifyCall(res(status, body));
      expect(out.type === 'failed' && out.error, String(status)).toBeInstanceOf(Transient);
      expect(out.type === 'failed' && out.error).toMatchObject({ kind: `http${status}`, httpStatus: status });
    }
  });

  it('401 asks for a token refresh; other 4xx are permanent and keep the API code', () => {
    expect(classifyCall(res(401, { code: 'UNAUTHORIZED', details: 'Scope header is missing' }))).toEqual({ type: 'unauthorized', details: 'Scope header is missing' });
    const bad = classifyCall(res(400, { code: 'INVALID_ARGUMENT', message: 'at most 1000 entities per request' }));
    expect(bad.type === 'failed' && bad.error).toBeInstanceOf(Permanent);
    expect(bad.type === 'failed' && bad.error).toMatchObject({ reason: 'INVALID_ARGUMENT', kind: 'invalidRequest', message: 'at most 1000 entities per request' });
    expect(classifyCall(res(415, {}))).toMatchObject({ type: 'failed', error: { kind: 'unsupportedMediaType' } });
  });
});

describe('classifyMultiStatus', () => {
  // The shape of Amazon's SP v3 "updateSponsoredProductsKeywords" 207 example.
  const answer = {
    keywords: {
      success: [
        { index: 0, keywordId: '4000001' },
        { index: 2, keywordId: '4000003', keyword: { keywordId: '4000003', bid: 1.25, state: 'ENABLED' } },
      ],
      error: [
        {
          index: 1,
          errors: [{ errorType: 'INVALID_ARGUMENT', errorValue: { rangeError: { reason: 'TOO_LOW', message: 'bid too low', lowerLimit: '0.02', upperLimit: '1000' } } }],
        },
        { index: 3, errors: [{ errorType: 'THROTTLED', errorValue: { throttledError: { reason: 'THROTTLED', message: 'Throttled' } } }] },
        { index: 4, errors: [{ errorType: 'internalServerError', errorValue: { internalServerError: { reason: 'INTERNAL_ERROR', message: 'try again' } } }] },
      ],
    },
  };

  it('maps each entity by index, whatever order the answer lists them in', () => {
    const out = classifyMultiStatus(answer, 'keywords', 'keywordId', 6);
    expect(out[0]).toEqual({ type: 'succeeded', id: '4000001' });
    expect(out[2]).toEqual({ type: 'succeeded', id: '4000003', entity: { keywordId: '4000003', bid: 1.25, state: 'ENABLED' } });
    expect(out[1]).toMatchObject({ type: 'failed', error: { kind: 'rangeError', reason: 'TOO_LOW' }, details: { lowerLimit: '0.02', upperLimit: '1000' } });
    expect(out[1]?.type === 'failed' && out[1].error).toBeInstanceOf(Permanent);
    expect(out[3]?.type === 'failed' && out[3].error).toBeInstanceOf(Throttled);
    expect(out[4]?.type === 'failed' && out[4].error).toBeInstanceOf(Transient);
  });

  it('treats an index the answer leaves out as transient, and ignores indexes out of range', () => {
    const out = classifyMultiStatus({ keywords: { success: [{ index: 9, keywordId: 'x' }], error: [] } }, 'keywords', 'keywordId', 2);
    expect(out).toHaveLength(2);
    expect(out.every((o) => o.type === 'failed' && o.error instanceof Transient && o.error.kind === 'missingResult')).toBe(true);
  });

  it('reads targetingClauses answers by their own key', () => {
    const out = classifyMultiStatus({ targetingClauses: { success: [{ index: 0, targetId: '7' }] } }, 'targetingClauses', 'targetId', 1);
    expect(out[0]).toEqual({ type: 'succeeded', id: '7' });
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('0.5')).toBe(500);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
