// Pages are addressed by the URL's fragment (#/jobs/ID?status=…): the api serves one page
// at /ui/, every view is a link that can be shared, reloaded and used with Back.
import { useEffect, useState } from 'preact/hooks';
import { withQuery, type Query } from './api.js';

export interface Route {
  /** The path's segments: ['jobs', ID, 'items']. */
  parts: string[];
  query: Record<string, string>;
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2);
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: Object.fromEntries(new URLSearchParams(search)) };
}

/** The link to a page: `href(['jobs', id], { status })`. */
export function href(parts: string[], query: Query = {}): string {
  return `#${withQuery(`/${parts.map(encodeURIComponent).join('/')}`, query)}`;
}

export function navigate(parts: string[], query: Query = {}): void {
  location.hash = href(parts, query);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** A filter form's submit handler: its fields (blank ones left out) become the page's query. */
export function filterSubmit(parts: string[], fields: readonly string[]): (event: Event) => void {
  return (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    navigate(parts, Object.fromEntries(fields.map((f) => [f, String(form.get(f) ?? '').trim() || undefined])));
  };
}
