#!/usr/bin/env -S node --max-semi-space-size=4
// The `sluice` command: runs the compiled CLI (dist/, `npm run build`) when it is built
// from the sources as they are, and otherwise the TypeScript through tsx's loader (see
// compiled.js). The small young generation (4 MiB semi-spaces, not 16) keeps the api
// under 300 MB while a million-item submission streams short-lived objects through
// validation and encoding.
import { compiledIsCurrent } from './compiled.js';

if (compiledIsCurrent()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
