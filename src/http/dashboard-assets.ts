// The web dashboard (ui/, built by Vite into ui/dist) served by the api at /ui: the same
// origin as the API, so it signs in with the same tokens and calls the same routes. The
// build's files are read into memory once (a few hundred kilobytes): nothing a request
// names is looked up on disk, so no path can reach outside the build. Pages get a strict
// Content-Security-Policy: scripts, styles and calls from this origin only, nothing inline.
import type { FastifyInstance } from 'fastify';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run ui:build` writes the dashboard. */
export const DASHBOARD_BUILD_DIR = fileURLToPath(new URL('../../ui/dist', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
}

/** The build's files by their path under /ui/ ('' is the page); undefined when it was not built. */
export function loadDashboard(dir: string): Map<string, Asset> | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const assets = new Map<string, Asset>();
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (CONTENT_TYPES[extname(name)]) assets.set(relative(dir, path).split(sep).join('/'), { body: readFileSync(path), type: CONTENT_TYPES[extname(name)]! });
    }
  };
  walk(dir);
  assets.set('', assets.get('index.html')!);
  return assets;
}

export function registerDashboard(app: FastifyInstance, assets: Map<string, Asset> | undefined): void {
  app.register(async (ui) => {
    // After the API's own security headers (a parent's hooks run first): a page may load its own scripts and styles.
    ui.addHook('onSend', async (req, reply) => {
      reply.header('content-security-policy', PAGE_POLICY);
      // Asset names carry their content's hash: they never change. The page itself is always asked again.
      reply.header('cache-control', req.url.startsWith('/ui/assets/') && reply.statusCode === 200 ? 'public, max-age=31536000, immutable' : 'no-store');
    });
    ui.get('/ui', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui/'));
    ui.get('/ui/*', { schema: { hide: true } }, async (req, reply) => {
      if (!assets) return reply.code(503).send({ error: 'dashboard_not_built', message: 'the dashboard is not built: run `npm run ui:build` (npm test and npm run demo build it)' });
      const asset = assets.get((req.params as { '*': string })['*']);
      if (!asset) return reply.code(404).send({ error: 'not_found', message: `no dashboard file ${req.url}` });
      return reply.type(asset.type).send(asset.body);
    });
  });
}
