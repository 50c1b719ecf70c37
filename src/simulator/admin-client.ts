// Talks to a running simulator's /_admin routes over HTTP: what tests, benchmarks and the
// chaos suite use to set faults and to read counters and entity state.
import type { CountersSnapshot } from './counters.js';
import type { Entity, EntityType, Profile } from './entities.js';
import type { AppliedUpdate } from './entity-store.js';
import type { KnobsPatch, KnobsView } from './knobs.js';

export class SimulatorAdmin {
  constructor(private readonly baseUrl: string) {}

  knobs(): Promise<KnobsView> {
    return this.json('GET', '/_admin/knobs');
  }

  setKnobs(patch: KnobsPatch): Promise<KnobsView> {
    return this.json('PUT', '/_admin/knobs', patch);
  }

  counters(): Promise<CountersSnapshot> {
    return this.json('GET', '/_admin/counters');
  }

  async resetCounters(): Promise<void> {
    await this.json('POST', '/_admin/counters/reset');
  }

  /** The client's refresh token is refused from now on (invalid_grant); its access tokens stop working. */
  async revokeClient(clientId: string): Promise<void> {
    await this.json('POST', `/_admin/clients/${encodeURIComponent(clientId)}/revoke`);
  }

  async expireTokens(): Promise<void> {
    await this.json('POST', '/_admin/tokens/expire');
  }

  profiles(): Promise<Profile[]> {
    return this.json('GET', '/_admin/profiles');
  }

  entities<T extends Entity = Entity>(profileId: string, type: EntityType, ids?: string[]): Promise<T[]> {
    const query = ids ? `?ids=${ids.map(encodeURIComponent).join(',')}` : '';
    return this.json('GET', `/_admin/entities/${profileId}/${type}${query}`);
  }

  async putEntity(profileId: string, type: EntityType, entity: Entity): Promise<void> {
    await this.json('PUT', `/_admin/entities/${profileId}/${type}`, entity);
  }

  /** An out-of-band edit of some fields of one entity (a person in the console); answers the entity after it. */
  editEntity<T extends Entity = Entity>(profileId: string, type: EntityType, id: string, fields: Partial<T>): Promise<T> {
    return this.json('PATCH', `/_admin/entities/${profileId}/${type}/${encodeURIComponent(id)}`, fields);
  }

  updates(filter: { profileId?: string; sinceSeq?: number } = {}): Promise<AppliedUpdate[]> {
    const q = new URLSearchParams();
    if (filter.profileId) q.set('profileId', filter.profileId);
    if (filter.sinceSeq !== undefined) q.set('sinceSeq', String(filter.sinceSeq));
    return this.json('GET', `/_admin/updates?${q}`);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator admin ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }
}
