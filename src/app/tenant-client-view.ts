// Which Login-with-Amazon client each tenant's calls carry, as the executor's limiter needs
// it: synchronously, on every turn of a lane. Amazon keeps one rate bucket per (client,
// profile), so two tenants whose own apps reach one profile each get the whole of theirs,
// and tenants on the install's credentials share one. Read from Postgres now and then
// (new credentials reach the limiter within `refreshMs`, as they reach the calls).
import type { TenantCredentials } from '../db/tenant-credentials.js';
import type { ClientKey } from '../consumers/adaptive-limiter.js';
import type { Logger } from '../telemetry/logger.js';

export interface TenantClientView {
  /** The tenant's own client id; '' when it calls with the install's credentials. */
  clientOf(tenantId: string): ClientKey;
  close(): void;
}

export async function openTenantClientView(credentials: Pick<TenantCredentials, 'clientIds'>, refreshMs: number, logger: Logger): Promise<TenantClientView> {
  let clients = new Map<string, string>();
  const load = async () => {
    clients = await credentials.clientIds();
  };
  await load();
  const timer = setInterval(() => load().catch((error: unknown) => logger.warn({ err: error }, 'tenant clients not reloaded; the last ones stay')), refreshMs);
  timer.unref();
  return {
    clientOf: (tenantId) => clients.get(tenantId) ?? '',
    close: () => clearInterval(timer),
  };
}
