// The api as a separate process (`sluice api`), for tests that kill it with SIGKILL.
import type { Config } from '../../src/config.js';
import { processEnv, startSluiceProcess, type SluiceProcess } from './sluice-process.js';

export type ApiProcess = SluiceProcess & { url: string };

export async function startApiProcess(config: Config, extraEnv: Record<string, string> = {}): Promise<ApiProcess> {
  const p = await startSluiceProcess(['api', '--port', '0'], { ...processEnv(config), ...extraEnv }, /Sluice API on (http:\/\/\S+)/);
  return { ...p, url: p.ready };
}
