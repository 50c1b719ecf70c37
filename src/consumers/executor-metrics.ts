// The executor's Prometheus metrics: what an operator pages on (dead letters, 429s, open
// breakers, lag) and what explains it (calls and latency by operation, lanes, rates).
// A registry per executor, so several executors in one process (tests) do not collide.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from './api-breakers.js';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

export class ExecutorMetrics {
  readonly registry = new Registry();
  readonly items = new Counter({ name: 'sluice_executor_items_total', help: 'Item outcomes by kind (succeeded, retrying, failed, dead_lettered, cancelled, poison)', labelNames: ['outcome'], registers: [this.registry] });
  readonly calls = new Counter({ name: 'sluice_executor_api_calls_total', help: 'API calls by operation, kind (read, write) and result (answered, throttled, transient, permanent)', labelNames: ['operation', 'kind', 'result'], registers: [this.registry] });
  readonly callSeconds = new Histogram({ name: 'sluice_executor_api_call_duration_seconds', help: 'API call latency by operation and kind (read, write)', labelNames: ['operation', 'kind'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  readonly throttled = new Counter({ name: 'sluice_executor_throttled_total', help: 'Calls answered 429 (or with throttled entities)', registers: [this.registry] });
  readonly breakerState = new Gauge({ name: 'sluice_executor_breaker_state', help: 'Circuit breaker state per profile ("*": the whole API): 0 closed, 1 half-open, 2 open', labelNames: ['profile'], registers: [this.registry] });
  readonly credentialsRejected = new Counter({ name: 'sluice_executor_tenant_credentials_rejected_total', help: "A tenant's Amazon credentials refused by Login with Amazon (invalid_grant): its items are dead-lettered until it sets new ones (the log names the tenant)", registers: [this.registry] });
  readonly laneErrors = new Counter({ name: 'sluice_executor_lane_errors_total', help: 'Unexpected errors in a lane (a bug, not an API answer): the batch was retried by the normal rules', registers: [this.registry] });
  readonly lanes = new Gauge({ name: 'sluice_executor_lanes', help: 'Profile lanes with work', registers: [this.registry] });
  readonly profileRate = new Gauge({ name: 'sluice_executor_profile_rate', help: 'Current adaptive call rate per profile (calls/s)', labelNames: ['profile'], registers: [this.registry] });
  readonly lag = new Gauge({ name: 'sluice_executor_consumer_lag', help: 'Records of item-commands not yet finished, per partition (high watermark minus committable offset)', labelNames: ['partition'], registers: [this.registry], collect: () => this.refreshPartitions() });
  readonly inWork = new Gauge({ name: 'sluice_executor_records_in_work', help: 'Records of item-commands taken and not finished, per partition (bounded by the partition read-ahead)', labelNames: ['partition'], registers: [this.registry], collect: () => this.refreshPartitions() });
  readonly leftLanes = new Gauge({ name: 'sluice_executor_lanes_left_in_kafka', help: 'Lanes whose backlog waits in Kafka rather than in memory (paused, throttled, breaker-open or simply long), per partition', labelNames: ['partition'], registers: [this.registry], collect: () => this.refreshPartitions() });
  readonly refills = new Counter({ name: 'sluice_executor_refills_total', help: 'Times a partition was read again from a lane\'s first record left in Kafka', registers: [this.registry] });
  readonly commandGaps = new Counter({ name: 'sluice_executor_command_gaps_total', help: 'Times commands still to run were found gone from item-commands (retention or deleted records); their items end expired', labelNames: ['partition'], registers: [this.registry] });
  readonly partitionsLost = new Counter({ name: 'sluice_executor_partitions_lost_total', help: 'Partitions this executor found owned by another one while it still worked on them (it was a zombie: frozen past its session timeout); their work here stopped, uncommitted', registers: [this.registry] });
  readonly callsHeld = new Counter({ name: 'sluice_executor_calls_held_total', help: 'API calls a lane held back because the group lease had lapsed (a rebalance under way, or heartbeats unanswered for most of a session timeout)', registers: [this.registry] });
  readonly givenBack = new Counter({ name: 'sluice_executor_items_given_back_total', help: 'Items a waiting lane dropped from memory, to be read from Kafka again', registers: [this.registry] });
  readonly profilesTracked = new Gauge({ name: 'sluice_executor_profiles_tracked', help: 'Profiles with a limiter held in full now (released after SLUICE_PROFILE_RELEASE_MS idle)', registers: [this.registry], collect: () => this.refreshProfiles() });
  readonly profilesRemembered = new Gauge({ name: 'sluice_executor_profiles_remembered', help: 'Released profiles whose learned rate is kept (a few numbers each)', registers: [this.registry], collect: () => this.refreshProfiles() });
  readonly breakersTracked = new Gauge({ name: 'sluice_executor_breakers_tracked', help: 'Profile circuit breakers held now (with their timers)', registers: [this.registry], collect: () => this.refreshProfiles() });
  readonly controlJobs = new Gauge({ name: 'sluice_executor_control_jobs', help: 'Jobs whose control state the executor holds (a finished job\'s leaves with its tombstone)', registers: [this.registry], collect: () => this.refreshProfiles() });
  readonly callsInFlight = new Gauge({ name: 'sluice_executor_calls_in_flight', help: 'API calls under way now (bounded by SLUICE_MAX_CALLS_IN_FLIGHT)', registers: [this.registry], collect: () => this.refreshCalls() });
  readonly callsWaiting = new Gauge({ name: 'sluice_executor_calls_waiting', help: 'Lanes whose turn has come, waiting for a place among the calls in flight', registers: [this.registry], collect: () => this.refreshCalls() });
  /** Read when the metrics are scraped: the calls in flight and the lanes waiting for a place. */
  callSource: () => { inFlight: number; waiting: number } = () => ({ inFlight: 0, waiting: 0 });
  /** Read when the metrics are scraped: how many profiles' and jobs' state is held. */
  profileSource: () => { tracked: number; remembered: number; breakers: number; controlJobs: number } = () => ({ tracked: 0, remembered: 0, breakers: 0, controlJobs: 0 });
  /** Read when the metrics are scraped: each owned partition's lag, records in work and lanes left in Kafka now. */
  partitionSource: () => Map<number, { lag: number; inWork: number; leftLanes: number }> = () => new Map();
  readonly flushSeconds = new Histogram({ name: 'sluice_executor_flush_duration_seconds', help: 'Time to write a batch of results and commit offsets in one transaction', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [this.registry] });

  private refreshPartitions(): void {
    this.lag.reset();
    this.inWork.reset();
    this.leftLanes.reset();
    for (const [partition, { lag, inWork, leftLanes }] of this.partitionSource()) {
      this.lag.set({ partition: String(partition) }, lag);
      this.inWork.set({ partition: String(partition) }, inWork);
      this.leftLanes.set({ partition: String(partition) }, leftLanes);
    }
  }

  private refreshCalls(): void {
    const { inFlight, waiting } = this.callSource();
    this.callsInFlight.set(inFlight);
    this.callsWaiting.set(waiting);
  }

  private refreshProfiles(): void {
    const { tracked, remembered, breakers, controlJobs } = this.profileSource();
    this.controlJobs.set(controlJobs);
    this.profilesTracked.set(tracked);
    this.profilesRemembered.set(remembered);
    this.breakersTracked.set(breakers);
  }

  /** A released profile's series go: thousands of idle profiles must not grow every scrape. */
  forgetProfile(profileId: string): void {
    this.profileRate.remove({ profile: profileId });
    this.breakerState.remove({ profile: profileId });
  }

  breaker(scope: string, state: BreakerState): void {
    this.breakerState.set({ profile: scope }, BREAKER_VALUE[state]);
  }
}
