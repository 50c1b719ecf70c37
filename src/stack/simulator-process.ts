// The local Ads API simulator as a stack service: `sluice simulator` in its own Node
// process, so the executor and benchmarks call it over real HTTP like the real API.
import { join } from 'node:path';
import { LOCAL_SIMULATOR_PORT, PROJECT_ROOT } from '../config.js';
import type { StartSpec } from './process-supervisor.js';

export function simulatorProcess(stackDir: string, configFile?: string): StartSpec {
  const dir = join(stackDir, 'simulator');
  return {
    name: 'ads-simulator',
    pidFile: join(dir, 'simulator.pid'),
    logFile: join(dir, 'simulator.log'),
    command: process.execPath,
    args: [join(PROJECT_ROOT, 'bin', 'sluice.js'), 'simulator', '--port', String(LOCAL_SIMULATOR_PORT), ...(configFile ? ['--config', configFile] : [])],
    cwd: PROJECT_ROOT,
  };
}

export async function simulatorIsReady(baseUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${baseUrl}/_admin/health`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}
