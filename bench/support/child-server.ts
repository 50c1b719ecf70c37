// Starts a server in a child process (so load and server do not share one event loop)
// and waits for the line in which it prints its URL.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Resolves when the child prints a line matching `pattern`; rejects if it exits first. */
export function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-1_000);
      if (!pattern.test(seen)) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolve();
    };
    const onExit = (code: number | null) => reject(new Error(`process exited (${code}) before printing ${pattern}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Node flags for every child, from BENCH_CHILD_NODE_ARGS (space-separated): for example
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` writes each child's CPU profile when it exits.
 */
const childNodeArgs = (): string[] => process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

export async function startChildServer(args: string[], urlPattern = /(http:\/\/127\.0\.0\.1:\d+)/, env: NodeJS.ProcessEnv = process.env): Promise<ChildServer> {
  const child = spawn(process.execPath, [...childNodeArgs(), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(urlPattern);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before printing its URL: ${args.join(' ')}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
