// Contract: the API's checks come in Amazon's order (bearer, client id, scope, profile and
// region, Content-Type, Accept), and the client sends what each check wants.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITY_META, generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import { DEV_CREDENTIALS, startTestSimulator, type TestSimulator } from '../../helpers/simulator.js';

const na = generatedProfileId('NA', 0);
const eu = generatedProfileId('EU', 0);
const media = ENTITY_META.keywords.mediaType;
let t: TestSimulator;
let token: string;

beforeAll(async () => {
  t = await startTestSimulator();
  const res = await fetch(t.sim.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: DEV_CREDENTIALS.refreshToken, client_id: DEV_CREDENTIALS.clientId, client_secret: DEV_CREDENTIALS.clientSecret }),
  });
  const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
  expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
  token = body.access_token;
});
afterAll(() => t.close());

const good = () => ({
  authorization: `Bearer ${token}`,
  'amazon-advertising-api-clientid': DEV_CREDENTIALS.clientId,
  'amazon-advertising-api-scope': na,
  'content-type': media,
  accept: media,
});

async function put(headers: Record<string, string>, region = 'na') {
  const res = await fetch(`${t.sim.url}/${region}/sp/keywords`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ keywords: [{ keywordId: generatedEntityId(na, 'keywords', 0), bid: 0.6 }] }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const without = (name: string) => Object.fromEntries(Object.entries(good()).filter(([k]) => k !== name));

describe('header checks, in order', () => {
  it('answers 207 when every header is right', async () => {
    expect((await put(good())).status).toBe(207);
  });
  it('401 for a bad bearer token, before anything else is looked at', async () => {
    const res = await put({ ...without('amazon-advertising-api-clientid'), authorization: 'Bearer forged', 'content-type': 'text/plain' });
    expect(res.status).toBe(401);
  });
  it('401 for a missing client id', async () => {
    expect((await put(without('amazon-advertising-api-clientid'))).status).toBe(401);
  });
  it('401 {code: UNAUTHORIZED, details: "Scope header is missing"} for a missing scope', async () => {
    const res = await put({ ...without('amazon-advertising-api-scope'), 'content-type': 'text/plain' });
    expect(res).toEqual({ status: 401, body: { code: 'UNAUTHORIZED', details: 'Scope header is missing' } });
  });
  it('401 for an unknown profile and for a profile of another region', async () => {
    expect((await put({ ...good(), 'amazon-advertising-api-scope': '999' })).status).toBe(401);
    expect((await put({ ...good(), 'amazon-advertising-api-scope': eu })).status).toBe(401);
    expect((await put({ ...good(), 'amazon-advertising-api-scope': eu }, 'eu')).status).toBe(207);
  });
  it('415 for a wrong Content-Type, then 406 for a wrong Accept', async () => {
    expect((await put({ ...good(), 'content-type': 'application/json', accept: 'application/json' })).status).toBe(415);
    expect((await put({ ...good(), accept: 'application/json' })).status).toBe(406);
  });
  it('lists profiles without a scope header, only those of the region', async () => {
    const res = await fetch(`${t.sim.url}/eu/v2/profiles`, { headers: { authorization: `Bearer ${token}`, 'amazon-advertising-api-clientid': DEV_CREDENTIALS.clientId } });
    const profiles = (await res.json()) as { profileId: number; countryCode: string; accountInfo: { marketplaceStringId: string } }[];
    expect(res.status).toBe(200);
    expect(profiles.map((p) => String(p.profileId))).toContain(eu);
    expect(profiles.map((p) => String(p.profileId))).not.toContain(na);
    expect(profiles[0]).toMatchObject({ countryCode: 'GB', accountInfo: { marketplaceStringId: expect.any(String) } });
  });
  it('the client finds each profile in its region and sends the right headers', async () => {
    const client = t.client();
    expect((await client.profiles('FE')).every((p) => p.region === 'FE')).toBe(true);
    for (const profile of [na, eu, generatedProfileId('FE', 1)]) {
      const result = await client.call(profile, 'keywords', 'update', [{ keywordId: generatedEntityId(profile, 'keywords', 3), bid: profile.startsWith('3') ? 12 : 0.9 }]);
      expect(result.type, profile).toBe('answered');
      if (result.type === 'answered') expect(result.items[0]?.type).toBe('succeeded');
    }
  });
});
