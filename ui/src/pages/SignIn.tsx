// Sign-in with a Sluice API token (`sluice tokens create`): admin, read or job scope.
import { useState } from 'preact/hooks';
import { identify, type Identity } from '../api.js';

export function SignIn({ onSignedIn }: { onSignedIn: (token: string, identity: Identity) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const identity = await identify(token.trim());
      if (identity) onSignedIn(token.trim(), identity);
      else setError('That token is not valid: unknown, expired or revoked.');
    } catch (e) {
      setError(`The API could not be asked: ${(e as Error).message}`);
    }
  };
  return (
    <main class="sign-in">
      <h1>Sluice</h1>
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input id="token" type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
        <button type="submit" class="primary">
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p class="muted">An admin token may do everything; a read token only reads; a job token opens its one job.</p>
    </main>
  );
}
