// `sluice demo` (npm run demo): the main job end to end on the local stack. It starts
// the stack, a simulator of 200 advertiser profiles taking 10 entities per call (one
// profile allowed 1 call/s, the rest 5), and in this process an executor and a
// projector; submits 20,000 bid and
// budget updates, about 1% of them for entities that do not exist; shows the live
// progress bar; and ends with the job's summary, where its dead letters are and how to
// see what replaying them would send. With --keep it also serves the api (and the web
// dashboard) while the job runs, prints the dashboard's address with an admin token and
// a read-only share link of the job, and keeps everything up until Ctrl-C.
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { openExecutorRuntime, executorSettings } from '../../app/executor-runtime.js';
import { openProducerRuntime } from '../../app/producer-runtime.js';
import { openProjectorRuntime } from '../../app/projector-runtime.js';
import type { Config } from '../../config.js';
import { submitJob } from '../../index.js';
import { generatedEntityId, generatedProfileId } from '../../simulator/entities.js';
import { startSimulator } from '../../simulator/server.js';
import { stackUp } from '../../stack/local-stack.js';
import { buildApiServer } from '../../http/server.js';
import { createLogger } from '../../telemetry/logger.js';
import { cliContext, closeOnSignals } from '../context.js';
import { apiServerOptions } from './api.js';
import { exitCodeOf, summaryLines, watchJob } from '../job-watcher.js';

const PROFILES = 200;
const KEYWORD_UPDATES = 90;
const BUDGET_UPDATES = 10;
const KEYWORDS = 100;
const CAMPAIGNS = 10;
const PER_CALL = 10;
const SLOW_PROFILE = generatedProfileId('NA', 7);

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start the local stack and run the demo job end to end')
    .option('--keep', "serve the api and the dashboard, print the job's dashboard address with a token, and stay up until Ctrl-C")
    .action(async (opts: { keep?: boolean }) => {
      const { config, logger } = cliContext();
      const quiet = createLogger({ level: 'warn', service: 'demo' });
      const result = await stackUp(config, logger);
      console.log(`stack ready (started: ${result.started.join(', ') || 'nothing'}; reused: ${result.reused.join(', ') || 'nothing'})`);
      const sim = await startSimulator({
        port: 0,
        generate: { profilesPerRegion: 0 },
        profiles: Array.from({ length: PROFILES }, (_, i) => ({
          profileId: generatedProfileId('NA', i),
          region: 'NA' as const,
          keywords: KEYWORDS,
          campaigns: CAMPAIGNS,
          targets: 0,
          ...(generatedProfileId('NA', i) === SLOW_PROFILE ? { rateLimit: { ratePerSecond: 1, burst: 1 } } : {}),
        })),
        rateLimit: { ratePerSecond: 5, burst: 5 },
        maxEntitiesPerCall: PER_CALL,
        latency: { p50Ms: 20, p99Ms: 80 },
        faults: { http500: 0.01, entityThrottled: 0.002 },
      });
      console.log(`simulator of ${PROFILES} profiles on ${sim.url}: ${PER_CALL} entities per call, 5 calls/s each (profile ${SLOW_PROFILE}: 1 call/s)`);
      // The executor is told the documented limit (5 calls/s) for every profile: it finds
      // the slow one's from its 429s.
      const demoConfig: Config = {
        ...config,
        adsApi: { ...config.adsApi, url: sim.url },
        executor: { ...config.executor, metricsPort: 0, maxBatchSize: PER_CALL, defaultRate: { ratePerSecond: 5, burst: 4, ceiling: 5 } },
        projector: { metricsPort: 0 },
      };
      const producer = await openProducerRuntime(demoConfig, quiet);
      const projector = await openProjectorRuntime(demoConfig, quiet);
      const executor = await openExecutorRuntime(demoConfig, quiet, executorSettings(demoConfig));
      const api = opts.keep ? await buildApiServer(apiServerOptions(demoConfig, producer, quiet)) : undefined;
      const close = async () => {
        await api?.close();
        await executor.close();
        await projector.close();
        await producer.close();
        await sim.close();
      };
      let keeping = false;
      try {
        const address = await api?.listen({ host: config.api.host, port: config.api.port });
        const submitted = await submitJob(producer, { tenantId: 'demo', labels: { source: 'demo' }, idempotencyKey: `demo-${randomUUID()}` }, demoItems());
        if (submitted.type !== 'accepted') throw new Error(`the demo job was not accepted: ${JSON.stringify(submitted).slice(0, 500)}`);
        console.log(`submitted job ${submitted.jobId}: ${submitted.itemCount} items over ${submitted.profileCount} profiles`);
        if (address) {
          // The token is in the address's fragment: the browser keeps it and never sends it to a server.
          const admin = await producer.tokens.create({ tenantId: 'demo', scope: 'admin', name: 'demo-admin', createdBy: 'sluice demo', expiresInSeconds: 7 * 24 * 3600 });
          const share = await producer.tokens.create({ tenantId: 'demo', scope: 'job', jobId: submitted.jobId, name: 'demo-share', createdBy: 'sluice demo', expiresInSeconds: 7 * 24 * 3600 });
          console.log(`dashboard (signs in as demo-admin): ${address}/ui/#token=${admin.token}`);
          console.log(`  the job's page: ${address}/ui/#/jobs/${submitted.jobId}`);
          console.log(`  read-only share link of the job: ${address}/ui/#token=${share.token}`);
        }
        const final = await watchJob(producer.queries.progress, 'demo', submitted.jobId, { timeoutMs: 170_000 });
        for (const line of summaryLines(final)) console.log(line);
        console.log(`dead letters: npx sluice dlq ls --tenant demo --job ${submitted.jobId}`);
        console.log(`  (or SELECT * FROM dead_letters WHERE job_id = '${submitted.jobId}'; in database ${new URL(config.database.url).pathname.slice(1)})`);
        console.log(`what a replay would send: npx sluice dlq replay --tenant demo --job ${submitted.jobId} --dry-run`);
        console.log(`details: npx sluice jobs show ${submitted.jobId} --tenant demo`);
        process.exitCode = final.status === 'completed_with_errors' ? 0 : exitCodeOf(final); // errors are part of the demo
        if (api) {
          console.log('the dashboard stays up (replay the dead letters from it); Ctrl-C ends the demo');
          closeOnSignals(close);
          keeping = true;
        }
      } finally {
        if (!keeping) await close();
      }
    });
}

/** Keyword bids and campaign budgets across every profile; every 100th names a keyword that does not exist. */
function* demoItems(): Generator<unknown> {
  for (let i = 0; i < KEYWORD_UPDATES + BUDGET_UPDATES; i++) {
    for (let p = 0; p < PROFILES; p++) {
      const profileId = generatedProfileId('NA', p);
      if (i >= KEYWORD_UPDATES) {
        const campaign = i - KEYWORD_UPDATES;
        yield { profileId, operation: 'campaign.setBudget', payload: { campaignId: generatedEntityId(profileId, 'campaigns', campaign % CAMPAIGNS), budget: 50 + campaign * 5 } };
        continue;
      }
      const missing = (i * PROFILES + p) % 100 === 99;
      yield { profileId, operation: 'keyword.setBid', payload: { keywordId: generatedEntityId(profileId, 'keywords', missing ? KEYWORDS + i : i), bid: Math.round((0.5 + ((i + p) % 40) / 10) * 100) / 100 } };
    }
  }
}
