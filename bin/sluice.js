#!/usr/bin/env -S node --max-semi-space-size=4
// The `sluice` command: runs the TypeScript CLI through tsx's loader. The small young
// generation (4 MiB semi-spaces, not 16) keeps the api under 300 MB while a million-item
// submission streams short-lived objects through validation and encoding.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
