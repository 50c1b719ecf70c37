// Login-with-Amazon access tokens for the client: cached, refreshed ahead of expiry, and
// refreshed at most once at a time however many calls are waiting (single flight). A
// 401 invalidates the token it was made with, so the next call fetches a new one.

export interface IssuedToken {
  accessToken: string;
  expiresInSeconds: number;
}

export interface TokenProviderOptions {
  fetchToken: () => Promise<IssuedToken>;
  /** Refresh this long before the token would expire. */
  refreshMarginMs: number;
  now?: () => number;
}

export class TokenProvider {
  private current?: { token: string; refreshAtMs: number };
  private inFlight?: Promise<string>;
  private readonly now: () => number;

  constructor(private readonly options: TokenProviderOptions) {
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<string> {
    if (this.current && this.now() < this.current.refreshAtMs) return this.current.token;
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The API refused `token`: forget it unless a newer one has already replaced it. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async refresh(): Promise<string> {
    const issued = await this.options.fetchToken();
    const lifetimeMs = issued.expiresInSeconds * 1000;
    // A token is used for at least half its life, even if the margin is longer than that.
    const marginMs = Math.min(this.options.refreshMarginMs, lifetimeMs / 2);
    this.current = { token: issued.accessToken, refreshAtMs: this.now() + lifetimeMs - marginMs };
    return issued.accessToken;
  }
}
