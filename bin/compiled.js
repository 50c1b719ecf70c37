// Whether dist/ holds src/ compiled as it is now (`npm run build` writes the hash of what
// it compiled into dist/.built-from). The `sluice` command runs the compiled JavaScript
// when it does, and the TypeScript through tsx's loader when it does not, so an edit to
// src/ never runs as stale code. Compiled, a process needs no loader thread and no
// transform at start: some 50 MB less resident memory each, and a faster start.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');
export const DIST = join(ROOT, 'dist');
export const BUILT_FROM = join(DIST, '.built-from');

/** The hash of every file under src/ and the compiler options that shape the output. */
export function sourceHash() {
  const hash = createHash('sha256');
  for (const name of ['tsconfig.json', 'tsconfig.build.json']) hash.update(name).update(readFileSync(join(ROOT, name)));
  const add = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) add(path);
      else hash.update(path.slice(ROOT.length)).update(readFileSync(path));
    }
  };
  add(join(ROOT, 'src'));
  return hash.digest('hex');
}

export function compiledIsCurrent() {
  return existsSync(BUILT_FROM) && readFileSync(BUILT_FROM, 'utf8') === sourceHash();
}
