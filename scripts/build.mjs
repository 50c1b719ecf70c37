#!/usr/bin/env node
// Compiles src/ into dist/ (tsc, tsconfig.build.json) with the files tsc does not copy
// (plain .mjs modules such as a worker's), and writes the hash of what it compiled last,
// so `sluice` runs dist/ only while it matches src/ (bin/compiled.js). `--if-stale`:
// only when dist/ does not match src/ any more.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BUILT_FROM, DIST, ROOT, compiledIsCurrent, sourceHash } from '../bin/compiled.js';

if (!(process.argv.includes('--if-stale') && compiledIsCurrent())) {
  console.log('build: compiling src/ into dist/ (tsc)');
  const hash = sourceHash();
  rmSync(DIST, { recursive: true, force: true });
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  const copyPlain = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) copyPlain(path);
      else if (entry.name.endsWith('.mjs')) cpSync(path, join(DIST, relative(join(ROOT, 'src'), path)));
    }
  };
  copyPlain(join(ROOT, 'src'));
  writeFileSync(BUILT_FROM, hash);
}
