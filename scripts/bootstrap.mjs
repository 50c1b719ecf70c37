#!/usr/bin/env node
// Installs the project's npm dependencies on a fresh clone (or when package-lock.json
// changed since the last install), so `npm test` and `npm run demo` need nothing done
// by hand first. Plain Node on purpose: it runs before tsx exists.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The lock file and the patches applied to installed packages (patch-package, on install).
const hash = createHash('sha256').update(readFileSync(join(root, 'package-lock.json')));
const patches = join(root, 'patches');
if (existsSync(patches)) for (const name of readdirSync(patches).sort()) hash.update(name).update(readFileSync(join(patches, name)));
const lockHash = hash.digest('hex');
const marker = join(root, 'node_modules', '.sluice-installed');

if (!existsSync(marker) || readFileSync(marker, 'utf8') !== lockHash) {
  console.log('bootstrap: installing npm dependencies (npm ci)');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
  writeFileSync(marker, lockHash);
}
