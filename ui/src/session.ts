// The signed-in token, kept for this browser tab only (sessionStorage: closing the tab
// signs out), and what it may do. A share link carries a job token in the URL's
// fragment (#token=…), which browsers never send to a server: it is taken from there,
// kept, and removed from the address bar.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { ApiClient, type Identity } from './api.js';

const KEY = 'sluice.token';
const IDENTITY_KEY = 'sluice.identity';

export interface Session {
  api: ApiClient;
  identity: Identity;
  signOut: () => void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('a page was rendered outside a signed-in session');
  return session;
}

/** A token handed over in the fragment (a share link), else the one this tab signed in with. */
export function storedToken(): string | undefined {
  const shared = location.hash.match(/^#token=([^&]+)/)?.[1];
  if (shared) {
    sessionStorage.setItem(KEY, decodeURIComponent(shared));
    sessionStorage.removeItem(IDENTITY_KEY); // the API says what the new token is
    history.replaceState(null, '', `${location.pathname}#/`);
  }
  return sessionStorage.getItem(KEY) ?? undefined;
}

/** The token and what the API said of it at sign-in. */
export function keepSignIn(token: string, identity: Identity): void {
  sessionStorage.setItem(KEY, token);
  sessionStorage.setItem(IDENTITY_KEY, JSON.stringify(identity));
}

/** This tab's sign-in as kept (the API is asked again: this only lets the page show at once); undefined when there is none. */
export function storedSignIn(): { token: string; identity: Identity } | undefined {
  const token = storedToken();
  const identity = sessionStorage.getItem(IDENTITY_KEY);
  return token && identity ? { token, identity: JSON.parse(identity) as Identity } : undefined;
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(IDENTITY_KEY);
}

/** What a scope may do, so a page shows only the controls that would be allowed. */
export const can = {
  control: (identity: Identity) => identity.scope === 'admin',
  listJobs: (identity: Identity) => identity.scope !== 'job',
  deadLetters: (identity: Identity) => identity.scope !== 'job',
  replay: (identity: Identity) => identity.scope === 'admin',
  audit: (identity: Identity) => identity.scope === 'admin',
};
