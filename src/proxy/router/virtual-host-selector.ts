/**
 * Virtual host selection by authority, in Envoy's order: exact domain, then the
 * longest suffix wildcard (`*.foo.com`, `*-bar.foo.com`), then the longest
 * prefix wildcard (`foo.*`, `foo-*`), then `*`. A wildcard's `*` must stand for
 * at least one character. Comparison is case-insensitive and includes any
 * `:port` exactly as written (Envoy without strip_matching_host_port).
 */
import { ConfigError } from '../../lib/errors.js';

interface WildcardEntry<T> {
  /** The domain without its '*', lower-cased. */
  readonly affix: string;
  readonly value: T;
}

export interface VirtualHostSelector<T> {
  select(authority: string): T | undefined;
}

/** `hosts[i].domains` as configured; a duplicate domain is reported at `<configPath>.virtual_hosts[i].domains[j]`. */
export function compileVirtualHostSelector<T>(
  hosts: ReadonlyArray<{ domains: readonly string[]; value: T }>,
  configPath: string,
): VirtualHostSelector<T> {
  const exact = new Map<string, T>();
  const suffixes: WildcardEntry<T>[] = [];
  const prefixes: WildcardEntry<T>[] = [];
  const seen = new Set<string>();
  let fallback: T | undefined;

  hosts.forEach(({ domains, value }, i) => {
    domains.forEach((domain, j) => {
      const lower = domain.toLowerCase();
      if (seen.has(lower)) {
        throw new ConfigError(`${configPath}.virtual_hosts[${i}].domains[${j}]`, `domain ${JSON.stringify(domain)} is already used by another virtual host`);
      }
      seen.add(lower);
      if (lower === '*') fallback = value;
      else if (lower.startsWith('*')) suffixes.push({ affix: lower.slice(1), value });
      else if (lower.endsWith('*')) prefixes.push({ affix: lower.slice(0, -1), value });
      else exact.set(lower, value);
    });
  });
  // Longest first, so the first hit is the most specific wildcard.
  const longestFirst = (a: WildcardEntry<T>, b: WildcardEntry<T>): number => b.affix.length - a.affix.length;
  suffixes.sort(longestFirst);
  prefixes.sort(longestFirst);

  return {
    select(authority: string): T | undefined {
      const host = authority.toLowerCase();
      const hit = exact.get(host);
      if (hit !== undefined) return hit;
      for (let i = 0; i < suffixes.length; i++) {
        const entry = suffixes[i]!;
        if (host.length > entry.affix.length && host.endsWith(entry.affix)) return entry.value;
      }
      for (let i = 0; i < prefixes.length; i++) {
        const entry = prefixes[i]!;
        if (host.length > entry.affix.length && host.startsWith(entry.affix)) return entry.value;
      }
      return fallback;
    },
  };
}
