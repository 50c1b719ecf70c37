// The dashboard's build: Preact in TypeScript, served by the api at /ui (src/http/dashboard-assets.ts).
// No inline script or style in the output: the page runs under `script-src 'self'; style-src 'self'`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // A data: URL would be an inline asset; every file is its own.
    assetsInlineLimit: 0,
    // The preload polyfill is a script of its own in Vite's output, not inline; browsers this serves support module preload.
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  logLevel: 'warn',
});
