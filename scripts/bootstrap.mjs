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

// The web dashboard (ui/), built into ui/dist for the api to serve at /ui, again whenever
// its sources (or the installed packages) changed since the last build.
const ui = join(root, 'ui');
const uiHash = createHash('sha256').update(lockHash);
const addSources = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'dist') addSources(path);
    } else uiHash.update(entry.name).update(readFileSync(path));
  }
};
addSources(ui);
const uiBuilt = join(ui, 'dist', '.built-from');
const uiSourcesHash = uiHash.digest('hex');
if (!existsSync(uiBuilt) || readFileSync(uiBuilt, 'utf8') !== uiSourcesHash) {
  console.log('bootstrap: building the dashboard (vite build)');
  execSync('npm run --silent ui:build', { cwd: root, stdio: 'inherit' });
  writeFileSync(uiBuilt, uiSourcesHash);
}

// The CLI compiled into dist/, again whenever src/ changed since: \`sluice\` processes run
// it (and the TypeScript itself while it is stale: bin/compiled.js).
execSync('node scripts/build.mjs --if-stale', { cwd: root, stdio: 'inherit' });

// `--browser` (npm test): the dashboard's browser tests drive Debian's Chromium. It is
// installed here when missing and this user may install packages (CI's machine is root);
// otherwise the tests say how to get one.
if (process.argv.includes('--browser') && !['/usr/bin/chromium', '/usr/bin/chromium-browser'].some((path) => existsSync(path)) && !process.env.SLUICE_CHROMIUM) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('bootstrap: installing chromium (apt-get) for the dashboard tests');
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit', shell: '/bin/sh' });
  } else console.log('bootstrap: no chromium found and not root: the dashboard tests will fail until one is installed (apt-get install chromium) or SLUICE_CHROMIUM names one');
}
