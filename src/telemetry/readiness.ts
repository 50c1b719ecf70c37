// Whether a process can do its work now: every service it needs answers (Kafka, the
// schema registry, Postgres) and its consumer groups have joined. /readyz asks these
// checks (a load balancer or Kubernetes stops sending work while one fails); /healthz
// only says the process is alive, so a slow dependency never gets it restarted.
import type { Admin } from 'kafkajs';
import type { Pool } from 'pg';
import type { RegistryConfig } from '../config.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves when ready; throws (or rejects) saying why not. */
  check(): Promise<void>;
}

export interface Readiness {
  ready: boolean;
  /** Each check's answer: `ok` or why not. */
  checks: Record<string, string>;
}

const CHECK_TIMEOUT_MS = 2_000;

export async function readinessOf(checks: readonly ReadinessCheck[]): Promise<Readiness> {
  const answers = await Promise.all(checks.map(async ({ name, check }) => [name, await answer(check)] as const));
  return { ready: answers.every(([, a]) => a === 'ok'), checks: Object.fromEntries(answers) };
}

async function answer(check: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)));
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

export function kafkaCheck(admin: Admin): ReadinessCheck {
  return { name: 'kafka', check: async () => void (await admin.describeCluster()) };
}

export function registryCheck({ url, auth }: RegistryConfig): ReadinessCheck {
  const headers: Record<string, string> = auth ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } : {};
  return {
    name: 'schema-registry',
    check: async () => {
      const res = await fetch(`${url.replace(/\/$/, '')}/subjects`, { headers, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`GET /subjects answered ${res.status}`);
    },
  };
}

export function postgresCheck(pool: Pool): ReadinessCheck {
  return { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) };
}

/** `joined`: whether the group has given this member its partitions (and it has not crashed since). */
export function groupCheck(group: string, joined: () => boolean): ReadinessCheck {
  return {
    name: `group ${group}`,
    check: async () => {
      if (!joined()) throw new Error('not joined yet');
    },
  };
}
