// The container image, as far as a machine without Docker can check it: the Dockerfile's
// stages and user, that every file it copies exists, that production dependencies alone
// cover every package src/ and bin/ import (the image prunes the rest), and that every
// command the image and docker-compose.yml run exists and starts against the real stack.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openProducerRuntime, type ProducerRuntime } from '../../../src/app/producer-runtime.js';
import { PROJECT_ROOT } from '../../../src/config.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from '../../helpers/services.js';
import { processEnv, startSluiceProcess, type SluiceProcess } from '../../helpers/sluice-process.js';
import { startTestSimulator, type TestSimulator } from '../../helpers/simulator.js';

const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
const finalStage = lines.slice(lines.findLastIndex((l) => l.startsWith('FROM ')));
const compose = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { image?: string; build?: unknown; command?: string[] }> };
const packageJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** The image's default command and every compose service built from the Dockerfile, by name. */
function imageCommands(): Record<string, string[]> {
  const cmd = JSON.parse(finalStage.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
  const out: Record<string, string[]> = { 'image default': cmd };
  for (const [name, service] of Object.entries(compose.services)) if (service.build !== undefined) out[name] = service.command ?? cmd;
  return out;
}

describe('the Dockerfile', () => {
  it('builds from Node 20 slim in two stages, prunes development dependencies, and runs as the unprivileged node user', () => {
    expect(lines.filter((l) => l.startsWith('FROM ')).map((l) => l.split(/\s+/)[1])).toEqual(['node:20-slim', 'node:20-slim']);
    expect(dockerfile).toMatch(/npm ci [^\n]*&& npm prune --omit=dev/);
    expect(finalStage.filter((l) => l.startsWith('USER ')).map((l) => l.split(/\s+/)[1])).toEqual(['node']);
    expect(finalStage.find((l) => l.startsWith('ENTRYPOINT '))).toMatch(/"bin\/sluice\.js"/);
  });

  it('copies only files that exist', () => {
    const sources = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) expect(existsSync(join(PROJECT_ROOT, source)), source).toBe(true);
  });

  it('needs no development dependency at run time: every package src/ and bin/ import is a production one', () => {
    const imported = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) {
          const text = readFileSync(path, 'utf8');
          const specs = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^'.][^']*)'/gm), ...text.matchAll(/^import\s+'([^'.][^']*)'/gm), ...text.matchAll(/\bimport\(\s*'([^'.][^']*)'\s*\)/g)];
          for (const [, spec] of specs) {
            const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
            if (!name.startsWith('node:') && !builtinModules.includes(name)) imported.add(name);
          }
        }
      }
    };
    walk(join(PROJECT_ROOT, 'src'));
    walk(join(PROJECT_ROOT, 'bin'));
    expect(imported.size).toBeGreaterThan(10);
    expect([...imported].filter((name) => !(name in packageJson.dependencies)).sort()).toEqual([]);
  });
});

describe('every command the image runs exists and starts', () => {
  const config = testConfig({ SLUICE_ITEM_PARTITIONS: '2' });
  let db: TestDatabase;
  let sim: TestSimulator;
  let runtime: ProducerRuntime;
  const started: SluiceProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(config);
    sim = await startTestSimulator({ generate: { profilesPerRegion: 0 } });
    runtime = await openProducerRuntime(config, testLogger()); // topics, schemas, migrations
  }, 120_000);
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop('SIGTERM')));
    await runtime?.close();
    await sim?.close();
    await db?.drop();
  });

  // What each command prints once it is up; any free port, so they run side by side.
  const READY: Record<string, { args: (command: string[]) => string[]; ready: RegExp }> = {
    run: { args: (c) => [...c, '--port', '0'], ready: /Sluice running: API on (\S+)/ },
    api: { args: (c) => [...c, '--port', '0'], ready: /Sluice API on (\S+)/ },
    executor: { args: (c) => c, ready: /Sluice executor running/ },
    projector: { args: (c) => c, ready: /Sluice projector running/ },
    simulator: { args: (c) => [...c.filter((_, i) => c[i - 1] !== '--port' && c[i] !== '--port'), '--port', '0'], ready: /Ads API simulator on (\S+)/ },
  };

  it.each(Object.entries(imageCommands()))('%s', async (_service, command) => {
    const how = READY[command[0]!];
    expect(how, `a command the test knows how to start: ${command.join(' ')}`).toBeDefined();
    const env = { ...processEnv(config), ADS_API_URL: sim.sim.url, SLUICE_METRICS_PORT: '0', SLUICE_PROJECTOR_METRICS_PORT: '0' };
    const p = await startSluiceProcess(how!.args(command), env, how!.ready);
    started.push(p);
    expect(p.ready).toBeTruthy();
  });
});
