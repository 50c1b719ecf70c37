// Fetches the JVM services of the local stack from Maven Central, once per machine, into
// the cache directory outside the repository: the Kafka broker's classpath (through
// stack/pom.xml) and the Apicurio Registry distribution (a packaged Quarkus app).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../config.js';

const run = promisify(execFile);

export const KAFKA_VERSION = '3.9.1';
export const APICURIO_VERSION = '3.0.9';

export interface Artifacts {
  /** Directory of jars for `java -cp DIR/*`. */
  kafkaLibs: string;
  /** The registry's runnable jar (its lib/ sits beside it). */
  registryJar: string;
}

export function artifactPaths(cacheDir: string): Artifacts {
  const registryHome = join(cacheDir, `apicurio-registry-${APICURIO_VERSION}`);
  return {
    kafkaLibs: join(cacheDir, `kafka-${KAFKA_VERSION}`, 'libs'),
    registryJar: join(registryHome, `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`),
  };
}

/** Downloads whatever is missing; a completed download is marked and never repeated. */
export async function ensureArtifacts(cacheDir: string, log: (msg: string) => void): Promise<Artifacts> {
  const paths = artifactPaths(cacheDir);
  await once(join(paths.kafkaLibs, '..', '.complete'), async () => {
    log(`fetching Apache Kafka ${KAFKA_VERSION} from Maven Central (first run only)`);
    await mvn([
      '-f', join(PROJECT_ROOT, 'stack', 'pom.xml'),
      'dependency:copy-dependencies@kafka',
      `-Dkafka.version=${KAFKA_VERSION}`,
      `-Dsluice.kafka.libs=${paths.kafkaLibs}`,
    ]);
  });
  const registryHome = join(paths.registryJar, '..');
  await once(join(registryHome, '.complete'), async () => {
    log(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central (first run only)`);
    mkdirSync(registryHome, { recursive: true });
    const archive = join(registryHome, 'distribution.tar.gz');
    // dependency:get without transitive resolution: Apicurio's parent pom is not on
    // Maven Central, so any goal that reads the artifact's descriptor fails.
    await mvn([
      'org.apache.maven.plugins:maven-dependency-plugin:2.8:get',
      `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
      '-Dtransitive=false',
      `-Ddest=${archive}`,
    ]);
    await run('tar', ['xzf', archive, '-C', registryHome]);
    rmSync(archive);
  });
  return paths;
}

async function once(marker: string, work: () => Promise<void>): Promise<void> {
  if (existsSync(marker)) return;
  await work();
  writeFileSync(marker, new Date().toISOString());
}

async function mvn(args: string[]): Promise<void> {
  try {
    await run('mvn', ['--batch-mode', '--quiet', ...args], { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    const detail = `${stdout}\n${stderr}`.split('\n').filter((l) => l.includes('ERROR')).slice(0, 5).join('\n');
    throw new Error(`mvn ${args.join(' ')} failed:\n${detail || String(error)}`);
  }
}
