// A baseline that is an older Sluice: the same code at an earlier commit, checked out once
// into a git worktree under bench/.baselines/ (ignored by git) and sharing this tree's
// node_modules, so a scenario can run its processes (bin/sluice.js) beside today's.
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** The root of a checkout of `rev` (made on first use). */
export function baselineCheckout(rev: string): string {
  const dir = join(ROOT, 'bench', '.baselines', rev);
  if (!existsSync(join(dir, 'bin', 'sluice.js'))) {
    execFileSync('git', ['worktree', 'add', '--force', '--detach', dir, rev], { cwd: ROOT, stdio: 'inherit' });
  }
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
