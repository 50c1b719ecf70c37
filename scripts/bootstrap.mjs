#!/usr/bin/env node
// Installs the project's npm dependencies on a fresh clone (or when package-lock.json
// changed since the last install), so `npm test` and `npm run demo` need nothing done
// by hand first. Plain Node on purpose: it runs before tsx exists.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockHash = createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');
const marker = join(root, 'node_modules', '.sluice-installed');

if (!existsSync(marker) || readFileSync(marker, 'utf8') !== lockHash) {
  console.log('bootstrap: installing npm dependencies (npm ci)');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
  writeFileSync(marker, lockHash);
}
