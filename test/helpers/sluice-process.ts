// Sluice processes (`sluice api`, `sluice executor`) as real child processes, for tests
// that kill them with SIGKILL or stop them with SIGTERM, and one-shot CLI commands run
// to their end.
import { appendFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT, type Config } from '../../src/config.js';

export interface SluiceProcess {
  /** The first capture group of the ready pattern (an address, say). */
  ready: string;
  child: ChildProcess;
  /** Resolves with the first log line matching `pattern`. */
  waitForLog(pattern: RegExp): Promise<string>;
  /** Everything it has written to stderr (its log lines) so far. */
  logs(): string;
  /** SIGKILL: no chance to clean up. */
  kill(): Promise<void>;
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/** The environment that points a child process at a test's services and topics. */
export function processEnv(config: Config): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: config.registry.url,
    DATABASE_URL: config.database.url,
    SLUICE_TOPIC_PREFIX: config.kafka.topicPrefix,
    SLUICE_ITEM_PARTITIONS: String(config.kafka.itemPartitions),
    SLUICE_REPLICATION_FACTOR: String(config.kafka.replicationFactor),
    SLUICE_LOG_LEVEL: 'info',
    SLUICE_PROJECTOR_METRICS_PORT: String(config.projector.metricsPort),
  };
}

/**
 * An executor process of a test's topics against its simulator at `apiUrl`, with `env`
 * over that (rates, session timeout…); `ready` is the URL of its /metrics.
 */
export function startExecutorProcess(config: Config, apiUrl: string, env: Record<string, string>): Promise<SluiceProcess> {
  return startSluiceProcess(['executor'], { ...processEnv(config), ADS_API_URL: apiUrl, SLUICE_METRICS_PORT: '0', ...env }, /Sluice executor running \(metrics at (\S+)\)/);
}

export async function startSluiceProcess(args: string[], env: Record<string, string>, readyOn: RegExp): Promise<SluiceProcess> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'sluice.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  const listeners: (() => void)[] = [];
  // SLUICE_TEST_LOG_DIR keeps every child's log in a file of its own (for a chaos run's post-mortem).
  const logFile = process.env.SLUICE_TEST_LOG_DIR ? join(process.env.SLUICE_TEST_LOG_DIR, `${args[0]}-${child.pid}.log`) : undefined;
  child.stderr!.on('data', (chunk: Buffer) => {
    logs += chunk.toString();
    if (logFile) appendFileSync(logFile, chunk);
    for (const l of listeners) l();
  });
  const ready = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const m = chunk.toString().match(readyOn);
      if (m) resolve(m[1] ?? m[0]);
    });
    child.once('exit', (code) => reject(new Error(`sluice ${args[0]} exited (${code}) before it was ready:\n${logs.slice(-2000)}`)));
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    ready,
    child,
    logs: () => logs,
    waitForLog: (pattern) =>
      new Promise((resolve) => {
        const check = () => {
          const line = logs.split('\n').find((l) => pattern.test(l));
          if (line) resolve(line);
        };
        listeners.push(check);
        check();
      }),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a one-shot `sluice` command to its end. */
export function runSluice(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'sluice.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
