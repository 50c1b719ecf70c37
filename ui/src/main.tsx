// The dashboard: sign-in, then the page the URL's fragment names.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient, identify, type Identity } from './api.js';
import { AuditPage } from './pages/AuditPage.js';
import { DeadLettersPage } from './pages/DeadLettersPage.js';
import { ItemsPage } from './pages/ItemsPage.js';
import { JobPage } from './pages/JobPage.js';
import { JobsPage } from './pages/JobsPage.js';
import { SignIn } from './pages/SignIn.js';
import { href, useRoute, type Route } from './router.js';
import { can, forgetToken, keepSignIn, SessionContext, storedSignIn, storedToken, type Session } from './session.js';
import './styles.css';

function App() {
  // What this tab signed in as shows at once; the token is asked about again meanwhile
  // (revoked or expired since: back to sign-in).
  const [signedIn, setSignedIn] = useState<{ token: string; identity: Identity } | null | undefined>(() => storedSignIn());
  useEffect(() => {
    const token = signedIn?.token ?? storedToken();
    if (!token) return setSignedIn(null);
    identify(token).then(
      (identity) => (identity ? (keepSignIn(token, identity), setSignedIn((now) => (now?.token === token && now.identity.scope === identity.scope ? now : { token, identity }))) : (forgetToken(), setSignedIn(null))),
      () => setSignedIn((now) => now ?? null),
    );
  }, []);
  const session = useMemo<Session | undefined>(
    () =>
      signedIn
        ? {
            api: new ApiClient(signedIn.token),
            identity: signedIn.identity,
            signOut: () => (forgetToken(), setSignedIn(null), (location.hash = '#/')),
          }
        : undefined,
    [signedIn],
  );
  if (signedIn === undefined) return <p class="muted">Loading…</p>;
  if (!session) return <SignIn onSignedIn={(token, identity) => (keepSignIn(token, identity), setSignedIn({ token, identity }))} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} />
    </SessionContext.Provider>
  );
}

function Shell({ session }: { session: Session }) {
  const route = useRoute();
  const { identity } = session;
  return (
    <>
      <header class="top">
        <a class="brand" href={href(['jobs'])}>
          Sluice
        </a>
        <nav aria-label="Pages">
          {can.listJobs(identity) && <a href={href(['jobs'])}>Jobs</a>}
          {can.deadLetters(identity) && <a href={href(['dead-letters'])}>Dead letters</a>}
          {can.audit(identity) && <a href={href(['audit'])}>Audit</a>}
        </nav>
        <span class="who">
          {identity.name} · {identity.scope} token · tenant {identity.tenantId}
        </span>
        <button type="button" onClick={session.signOut}>
          Sign out
        </button>
      </header>
      <main>{page(route, session)}</main>
    </>
  );
}

function page({ parts, query }: Route, { identity }: Session) {
  // A job token sees its own job only: every other address shows that job.
  if (identity.scope === 'job') {
    const jobId = identity.jobId!;
    return parts[0] === 'jobs' && parts[1] === jobId && parts[2] === 'items' ? <ItemsPage jobId={jobId} query={query} /> : <JobPage jobId={jobId} />;
  }
  const [section, id, sub] = parts;
  if (section === 'jobs' && id && sub === 'items') return <ItemsPage jobId={id} query={query} />;
  if (section === 'jobs' && id) return <JobPage jobId={id} />;
  if (section === 'dead-letters') return <DeadLettersPage query={query} />;
  if (section === 'audit' && can.audit(identity)) return <AuditPage query={query} />;
  return <JobsPage query={query} />;
}

render(<App />, document.getElementById('app')!);
