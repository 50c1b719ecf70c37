// The web dashboard in a real browser (Chromium, headless) against the real api, executor,
// projector and simulator: sign in, a job submitted through the API watched to 100% live,
// a failed item opened, the simulator's missing entities created and the dead letters
// replayed from the page until resolved, pause and resume from the page, what a read token
// and a job token may see, accessibility (axe-core) and keyboard reach on every page, and
// first render of 1,000 jobs and of a 1,000-profile job. Screenshots of each page are
// written to test-artifacts/dashboard/.
import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProjectorRuntime, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import { createPool, type Pool } from '../../../src/db/pool.js';
import type { JobProgress } from '../../../src/projections/job-progress.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { serveApi, type ServedApi } from '../../helpers/api.js';
import { until } from '../../helpers/api-world.js';
import { launchBrowser, screenshot } from '../../helpers/browser.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { testLogger } from '../../helpers/services.js';

const PROFILES = [0, 1, 2].map((i) => generatedProfileId('NA', i));
const PER_PROFILE = 100;
/** Keywords the simulator does not have (until the test creates them): their items are dead-lettered. */
const MISSING = Array.from({ length: 5 }, (_, i) => `${PROFILES[0]}99999${i}`);

let p: TestPipeline;
let projector: ProjectorRuntime;
let api: ServedApi;
let pool: Pool;
let browser: Browser;
const tokens: Record<'admin' | 'read', string> = { admin: '', read: '' };
/** Errors the pages logged (a Content-Security-Policy refusal shows here): none are expected. */
const pageErrors: string[] = [];

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 3 }, entitiesPerProfile: { keywords: PER_PROFILE * 4, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 20, burst: 2 } },
    // About 3 s per profile for a 100-item job: long enough to watch the bar move.
    env: { SLUICE_PROFILE_RATE: '5', SLUICE_PROFILE_BURST: '1', SLUICE_MAX_BATCH_SIZE: '5' },
  });
  projector = await openProjectorRuntime(p.config, testLogger());
  api = await serveApi(p.producer);
  pool = createPool({ url: p.config.database.url, max: 2 });
  for (const scope of ['admin', 'read'] as const) tokens[scope] = (await api.auth('t1', scope)).authorization.replace('Bearer ', '');
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await pool?.end();
  await api?.close();
  await projector?.close();
  await p?.close();
});

async function openPage(token?: string, context?: BrowserContext): Promise<Page> {
  const page = await (context ?? (await browser.newContext({ viewport: { width: 1400, height: 900 } }))).newPage();
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(`${page.url()}: ${m.text()}`));
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  await page.goto(`${api.url}/ui/`);
  if (token) await signIn(page, token);
  return page;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function submit(items: unknown[], token = tokens.admin): Promise<string> {
  const res = await fetch(`${api.url}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ operation: 'keyword.setBid', labels: { team: 'ops' }, items }) });
  const body = (await res.json()) as { jobId: string };
  expect(res.status).toBe(202);
  return body.jobId;
}

async function progress(jobId: string): Promise<JobProgress> {
  return (await (await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${tokens.admin}` } })).json()) as JobProgress;
}

const bar = (page: Page) => page.getByRole('progressbar').first();
const percentShown = async (page: Page) => Number(await bar(page).getAttribute('aria-valuenow'));

let jobId: string;

describe('an admin', () => {
  it('signs in, and watches a job submitted through the API reach 100% live', async () => {
    const res = await fetch(`${api.url}/ui/`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).not.toMatch(/<script>|<style>| style=/);

    const page = await openPage();
    await screenshot(page, 'sign-in');
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid');
    await signIn(page, tokens.admin);

    const items = [...PROFILES.flatMap((profile) => keywordUpdates(profile, PER_PROFILE)), ...MISSING.map((keywordId) => ({ profileId: PROFILES[0]!, payload: { keywordId, bid: 1.25 } }))];
    jobId = await submit(items);
    // The live list shows it (refreshed every 2 s); its link opens the job.
    await page.getByRole('link', { name: jobId.slice(0, 8) }).click();
    await bar(page).waitFor();
    const firstSeen = await percentShown(page);
    await expect.poll(() => percentShown(page), { timeout: 60_000, interval: 250 }).toBe(100);
    expect(firstSeen).toBeLessThan(100); // the bar moved on the page, it did not load finished
    await expect.poll(() => page.getByTestId('done').textContent()).toContain(`${items.length} / ${items.length}`);
    const final = await progress(jobId);
    expect(final.counts).toMatchObject({ succeeded: PROFILES.length * PER_PROFILE, deadLettered: MISSING.length });
    await expect.poll(() => page.locator('.badge').first().textContent()).toBe('completed with errors');
    await page.getByRole('row', { name: new RegExp(PROFILES[0]!) }).waitFor();
    await screenshot(page, 'job');
    await page.goto(`${api.url}/ui/#/jobs`);
    await page.getByRole('link', { name: jobId.slice(0, 8) }).waitFor();
    await screenshot(page, 'jobs');
    await page.close();
  }, 120_000);

  it('opens a failed item: its request, its error, its attempts', async () => {
    const page = await openPage(tokens.admin);
    await page.goto(`${api.url}/ui/#/jobs/${jobId}`);
    await page.locator('td[data-status="dead_lettered"] a').click();
    await expect.poll(() => page.locator('table.items tbody tr').count()).toBe(MISSING.length);
    await page.getByRole('link', { name: `item ${PROFILES.length * PER_PROFILE} details` }).click();
    const detail = page.locator('section.detail');
    await expect.poll(() => detail.textContent()).toContain(MISSING[0]!);
    const text = (await detail.textContent())!;
    expect(text).toContain('dead lettered');
    expect(text).toMatch(/Trace id[0-9a-f]{32}/);
    // Its calls, as its dead letter keeps them: one, refused for good.
    await expect.poll(async () => (await detail.locator('ol li').allTextContents()).map((call) => call.replace(/^.*?: /, ''))).toEqual([`permanent ENTITY_NOT_FOUND KEYWORD ${MISSING[0]} not found`]);
    await screenshot(page, 'item');
    await page.close();
  });

  it('replays the dead letters from the page once the simulator has the keywords, until they resolve', async () => {
    const [template] = await p.sim.admin.entities<Keyword>(PROFILES[0]!, 'keywords', [generatedEntityId(PROFILES[0]!, 'keywords', 0)]);
    for (const keywordId of MISSING) await p.sim.admin.putEntity(PROFILES[0]!, 'keywords', { ...template!, keywordId, keywordText: `created ${keywordId}` });
    const page = await openPage(tokens.admin);
    await page.goto(`${api.url}/ui/#/dead-letters?jobId=${jobId}`);
    await expect.poll(() => page.locator('table.letters tbody tr').count()).toBe(MISSING.length);
    // A patch that does not fit is refused before anything is sent.
    await page.getByLabel(/^Patch/).fill('{"bid": "high"}');
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('bid');
    await page.getByLabel(/^Patch/).fill('{"bid": 1.75}');
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await expect.poll(() => page.getByTestId('replay-preview').textContent()).toContain(`${MISSING.length} selected; ${MISSING.length} would be replayed`);
    await screenshot(page, 'dead-letters');
    await page.getByRole('button', { name: `Replay ${MISSING.length} item(s)` }).click();
    await expect.poll(() => page.getByTestId('replay-outcome').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`${MISSING.length} resolved.*done`));
    await screenshot(page, 'replayed');
    // Every item's final state, in the projection and in the simulator.
    expect((await progress(jobId)).counts).toMatchObject({ succeeded: PROFILES.length * PER_PROFILE + MISSING.length, deadLettered: 0 });
    const bids = new Map((await p.sim.admin.entities<Keyword>(PROFILES[0]!, 'keywords', MISSING)).map((k) => [k.keywordId, k.bid]));
    expect(MISSING.map((k) => bids.get(k))).toEqual(MISSING.map(() => 1.75));
    await page.close();
  }, 90_000);

  it('pauses and resumes a job from the page, and nothing runs while it is paused', async () => {
    const job = await submit(keywordUpdates(PROFILES[1]!, PER_PROFILE * 3, () => 3.5));
    const page = await openPage(tokens.admin);
    await page.goto(`${api.url}/ui/#/jobs/${job}`);
    await expect.poll(() => percentShown(page), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByLabel('Reason (optional)').fill('checking the bids');
    await page.getByRole('button', { name: 'Pause the job' }).click();
    await expect.poll(() => page.locator('.badge').first().textContent(), { timeout: 15_000 }).toBe('paused');
    await expect.poll(() => page.getByRole('list', { name: 'Safety states' }).textContent()).toContain('checking the bids');
    await screenshot(page, 'job-paused');
    // Calls in flight finish; then nothing moves.
    await new Promise((r) => setTimeout(r, 1_500));
    const held = (await progress(job)).done;
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await progress(job)).done).toBe(held);
    expect(held).toBeLessThan(PER_PROFILE * 3);
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.getByRole('button', { name: 'Resume the job' }).click();
    await expect.poll(() => percentShown(page), { timeout: 90_000, interval: 500 }).toBe(100);
    expect((await progress(job)).counts).toMatchObject({ succeeded: PER_PROFILE * 3 });
    const audit = (await (await fetch(`${api.url}/v1/audit?target=${job}`, { headers: { authorization: `Bearer ${tokens.admin}` } })).json()) as { entries: { action: string; outcome: string }[] };
    expect(audit.entries.filter((e) => e.outcome === 'ok').map((e) => e.action)).toEqual(expect.arrayContaining(['job.pause', 'job.resume']));
    await page.close();
  }, 120_000);
});

describe('scopes', () => {
  it('a read token sees no controls, no replay and no audit', async () => {
    const page = await openPage(tokens.read);
    await page.goto(`${api.url}/ui/#/jobs/${jobId}`);
    await bar(page).waitFor();
    expect(await page.getByRole('button', { name: /^(Pause|Resume|Cancel)$/ }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    await page.goto(`${api.url}/ui/#/dead-letters`);
    await page.getByRole('heading', { name: 'By reason' }).waitFor();
    expect(await page.getByRole('button', { name: /Preview|Replay/ }).count()).toBe(0);
    await page.goto(`${api.url}/ui/#/audit`);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor(); // not an admin: the jobs page instead
    await page.close();
  });

  it("a job token's share link opens its job read-only, and no other job", async () => {
    const other = await submit(keywordUpdates(PROFILES[2]!, 3));
    const share = (await api.auth('t1', 'job', jobId)).authorization.replace('Bearer ', '');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${api.url}/ui/#token=${encodeURIComponent(share)}`);
    await page.getByRole('heading', { name: new RegExp(jobId) }).waitFor();
    expect(page.url()).not.toContain(share); // taken out of the address bar
    expect(await page.getByRole('button', { name: /^(Pause|Resume|Cancel)$/ }).count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').count()).toBe(0);
    await screenshot(page, 'shared-job');
    await page.goto(`${api.url}/ui/#/jobs/${other}`);
    await page.getByRole('heading', { name: new RegExp(jobId) }).waitFor();
    expect(await page.getByRole('heading', { name: new RegExp(other) }).count()).toBe(0);
    expect((await fetch(`${api.url}/v1/jobs/${other}`, { headers: { authorization: `Bearer ${share}` } })).status).toBe(404);
    await context.close();
  });
});

describe('every page', () => {
  const pages = () => [
    ['jobs', '#/jobs'],
    ['job', `#/jobs/${jobId}`],
    ['items', `#/jobs/${jobId}/items?index=${PROFILES.length * PER_PROFILE}`],
    ['dead-letters', `#/dead-letters?jobId=${jobId}`],
    ['audit', `#/audit?target=${jobId}`],
  ];

  it('has no serious accessibility violations (axe-core), and every control is reached by keyboard', async () => {
    const page = await openPage();
    const problems: string[] = [];
    problems.push(...(await axeProblems(page, 'sign-in')));
    await signIn(page, tokens.admin);
    for (const [name, hash] of pages()) {
      await page.goto(`${api.url}/ui/${hash}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle').catch(() => undefined); // the job page's stream never idles
      await page.waitForTimeout(500);
      problems.push(...(await axeProblems(page, name!)));
      problems.push(...(await unreachableByKeyboard(page, name!)));
    }
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('logs no errors (no Content-Security-Policy refusals) on any page', () => {
    // Only the refusals the tests asked for: a token that is not one (401), a patch that does not fit (400).
    expect(pageErrors.filter((e) => !/Failed to load resource: the server responded with a status of 40[01]/.test(e))).toEqual([]);
  });
});

describe('first render', () => {
  it('of 1,000 jobs and of a 1,000-profile job is under a second', async () => {
    // Projection rows for a tenant of its own (what the projector writes for jobs submitted
    // and done): the page reads only these, and 1,000 submissions would take the suite minutes.
    await pool.query(
      `INSERT INTO jobs (job_id, tenant_id, status, operation, labels, total_items, succeeded_items, submitted_at, submitted_by)
       SELECT gen_random_uuid()::text, 'bulk', 'completed', 'keyword.setBid', '{"batch":"render"}', 10, 10, now() - make_interval(secs => g), 'token:render'
       FROM generate_series(1, 1000) g`,
    );
    const wide = (await pool.query<{ job_id: string }>(`INSERT INTO jobs (job_id, tenant_id, status, operation, labels, total_items, submitted_at) VALUES (gen_random_uuid()::text, 'bulk', 'running', 'keyword.setBid', '{}', 10000, now()) RETURNING job_id`)).rows[0]!.job_id;
    await pool.query(`INSERT INTO job_profiles (job_id, profile_id, total_items, done_items) SELECT $1, (1000000000000 + g)::text, 10, 0 FROM generate_series(1, 1000) g`, [wide]);
    // Two of its profiles held up: one behind an open breaker, one throttled (items retrying with those reasons).
    await pool.query(
      `INSERT INTO job_items (job_id, item_index, item_id, profile_id, operation, status, attempts, last_error_kind, last_error_reason)
       SELECT $1, g, $1 || ':' || g, CASE WHEN g < 3 THEN '1000000000001' ELSE '1000000000002' END, 'keyword.setBid', 'retrying', 1,
              CASE WHEN g < 3 THEN 'http500' ELSE 'throttled' END, CASE WHEN g < 3 THEN 'BREAKER_OPEN' ELSE 'THROTTLED' END
       FROM generate_series(0, 4) g`,
      [wide],
    );
    const bulkAdmin = (await api.auth('bulk', 'admin')).authorization.replace('Bearer ', '');
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // Signed in, as a tab is after sign-in (the page keeps its token and what the API said of it in sessionStorage).
    const identity = await (await fetch(`${api.url}/v1/whoami`, { headers: { authorization: `Bearer ${bulkAdmin}` } })).json();
    await context.addInitScript(([token, who]) => (sessionStorage.setItem('sluice.token', token), sessionStorage.setItem('sluice.identity', who)), [bulkAdmin, JSON.stringify(identity)] as const);
    // The median of three first navigations, each in a new tab (one slow frame on a shared
    // machine is not the page's). This file runs after the others, alone (vitest.config.ts).
    // Two times each: the first render (the first screenful of rows, 100, on the page) and
    // all 1,000 rows in the page (the rest fill in below, in the task after).
    const timed = async (hash: string, table: string) => {
      const first: number[] = [];
      const all: number[] = [];
      for (let run = 0; run < 3; run++) {
        const page = await context.newPage();
        await page.goto(`${api.url}/ui/${hash}`, { waitUntil: 'commit' });
        // Checked at every frame, in the page: the time is when the rows were there, not when a poll saw them.
        const when = async (rows: number) => (await (await page.waitForFunction(([t, n]) => document.querySelector(`${t} tbody tr:nth-child(${n})`) && performance.now(), [table, rows] as const, { polling: 'raf', timeout: 10_000 })).jsonValue()) as number;
        // (both watched from the start: a watch begun after the first would time itself)
        const [screenful, whole] = await Promise.all([when(100), when(1_000)]);
        first.push(screenful);
        all.push(whole);
        if (run === 2) await screenshot(page, hash === '#/jobs' ? 'jobs-1000' : 'job-1000-profiles', { fullPage: false });
        await page.close();
      }
      const median = (times: number[]) => times.sort((x, y) => x - y)[1]!;
      return { first: median(first), all: median(all) };
    };
    const jobs = await timed('#/jobs', 'table.jobs');
    const profiles = await timed(`#/jobs/${wide}`, 'table.profiles');
    const marked = await context.newPage();
    await marked.goto(`${api.url}/ui/#/jobs/${wide}`);
    const stateOf = (profileId: string) => marked.locator('table.profiles tbody tr', { hasText: profileId }).locator('td').last().textContent();
    expect([await stateOf('1000000000001'), await stateOf('1000000000002'), await stateOf('1000000000003')]).toEqual(['breaker open (3 waiting)', 'throttled (2 waiting)', 'waiting']);
    await marked.close();
    const ms = (t: { first: number; all: number }) => `first render ${Math.round(t.first)} ms, all 1,000 rows ${Math.round(t.all)} ms`;
    console.log(`1,000 jobs: ${ms(jobs)}; a 1,000-profile job: ${ms(profiles)} (medians of 3)`);
    expect(jobs.first).toBeLessThan(1_000);
    expect(profiles.first).toBeLessThan(1_000);
    // The whole table follows within the next second (a bound for a page that never fills in, not a speed claim).
    expect(jobs.all).toBeLessThan(jobs.first + 1_000);
    expect(profiles.all).toBeLessThan(profiles.first + 1_000);
    await context.close();
  }, 120_000);

  it('updates a running job no more than twice a second', async () => {
    const running = await submit(keywordUpdates(PROFILES[2]!, PER_PROFILE * 2, () => 4.5));
    const page = await openPage(tokens.admin);
    await page.goto(`${api.url}/ui/#/jobs/${running}`);
    await page.getByTestId('done').waitFor();
    // Changes to the job page's count of done items over 4 s, while the job runs.
    const changes = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          let seen = 0;
          const observer = new MutationObserver(() => seen++);
          observer.observe(document.querySelector('[data-testid="done"]')!, { subtree: true, childList: true, characterData: true });
          setTimeout(() => (observer.disconnect(), resolve(seen)), 4_000);
        }),
    );
    expect(changes).toBeGreaterThan(0);
    expect(changes).toBeLessThanOrEqual(9);
    expect((await progress(running)).status).toBe('running'); // it was moving all along
    await page.close();
  }, 60_000);
});

async function axeProblems(page: Page, name: string): Promise<string[]> {
  await page.evaluate(axe.source);
  const result = await page.evaluate(() => (window as unknown as { axe: typeof axe }).axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${name}: ${v.id} (${v.impact}): ${v.nodes.length} node(s), e.g. ${v.nodes[0]?.html.slice(0, 120)}`);
}

/** Tabs through the page: every visible link, button and field must take the focus. */
async function unreachableByKeyboard(page: Page, name: string): Promise<string[]> {
  const controls = await page.evaluate(() => {
    const all = [...document.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input, select, textarea')].filter((e) => e.offsetParent !== null);
    all.forEach((e, i) => (e.dataset.reach = String(i)));
    return all.length;
  });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const reached = new Set<string>();
  for (let i = 0; i < controls + 5 && reached.size < controls; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.reach);
    if (at !== undefined) reached.add(at);
  }
  return reached.size === controls ? [] : [`${name}: ${controls - reached.size} of ${controls} controls not reached by Tab`];
}
