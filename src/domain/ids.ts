// The shape of the ids Sluice makes (jobs, dead letters, replays: crypto.randomUUID), so
// every place that takes one back from outside checks it the same way.
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
