/** The traffic-control functions `weft perf study` can switch on, one at a time (a module of its own so `--help` loads nothing heavy). */
export const STUDY_FUNCTIONS = ['none', 'mtls', 'retries', 'ratelimit', 'authz', 'fault', 'accesslog'] as const;
export type StudyFunction = (typeof STUDY_FUNCTIONS)[number];
