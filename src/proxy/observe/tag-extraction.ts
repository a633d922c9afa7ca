/**
 * Envoy's default tag extraction, the subset Weft's stats use: turns a dotted
 * stat name into a Prometheus metric name and labels, as Envoy's
 * `/stats/prometheus` does.
 *
 *   cluster.backend.upstream_rq_200
 *     -> envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="backend"}
 *
 * Every rule matches the original name; each match removes its first capture
 * group from the name and records the second as the tag value (Envoy's
 * TagExtractor semantics). Rules and their order follow Envoy's
 * `well_known_names.cc`.
 */

interface TagRule {
  /** Prometheus label name (Envoy's `envoy.<tag>` with the dot sanitized). */
  readonly label: string;
  /** Group 1: the characters removed from the name; group 2: the tag value. Uses the `d` flag for indices. */
  readonly regex: RegExp;
  /** A tag value that disables the rule (Envoy keeps `listener.admin.` untagged). */
  readonly excludedValue?: string;
}

const IP_PORT = String.raw`(?:(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[a-fA-F_\d]+\])_\d+)`;

const RULES: readonly TagRule[] = [
  { label: 'envoy_response_code', regex: /_rq(_(\d{3}))$/d },
  { label: 'envoy_response_code_class', regex: /_rq_((\d))xx$/d },
  { label: 'envoy_tcp_prefix', regex: /^tcp\.(([^.]+)\.)/d },
  { label: 'envoy_cluster_name', regex: /^cluster\.(([^.]+)\.)/d },
  { label: 'envoy_http_conn_manager_prefix', regex: /^listener\..*?\.http\.(([^.]+)\.)/d },
  { label: 'envoy_http_conn_manager_prefix', regex: /^http\.(([^.]+)\.)/d },
  { label: 'envoy_listener_address', regex: new RegExp(String.raw`^listener\.((${IP_PORT}|[^.]+)\.)`, 'd'), excludedValue: 'admin' },
];

export interface ExtractedName {
  /** Prometheus metric name, `envoy_` prefixed and sanitized. */
  readonly name: string;
  /** [label, value] pairs in rule order; values are raw (escape when rendering). */
  readonly labels: ReadonlyArray<readonly [string, string]>;
}

/** Replaces every character Prometheus does not allow in a metric or label name with '_' (as Envoy does). */
export function sanitizePrometheusName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

export function extractTags(statName: string): ExtractedName {
  const labels: Array<readonly [string, string]> = [];
  const removed: Array<readonly [number, number]> = [];
  for (const rule of RULES) {
    const match = rule.regex.exec(statName);
    if (match === null || match.indices === undefined) continue;
    const value = match[2]!;
    if (value === rule.excludedValue) continue;
    labels.push([rule.label, value]);
    removed.push(match.indices[1]!);
  }
  removed.sort((a, b) => a[0] - b[0]);
  let stripped = '';
  let from = 0;
  for (const [start, end] of removed) {
    if (start >= from) stripped += statName.slice(from, start);
    from = Math.max(from, end);
  }
  stripped += statName.slice(from);
  return { name: `envoy_${sanitizePrometheusName(stripped)}`, labels };
}
