/**
 * A header map as flat parallel arrays: names as received (for forwarding with
 * the client's casing), lower-cased names (for lookups) and values. No per-lookup
 * allocation; order and duplicates are preserved, as HTTP/1.1 requires.
 */
export class HeaderMap {
  private names: string[] = [];
  private lower: string[] = [];
  private values: string[] = [];

  /** Builds from a flat [name, value, name, value, ...] list (the parser's output). */
  static fromRaw(raw: string[]): HeaderMap {
    const map = new HeaderMap();
    for (let i = 0; i < raw.length; i += 2) map.add(raw[i]!, raw[i + 1]!);
    return map;
  }

  get size(): number {
    return this.names.length;
  }

  /** First value of a header; `name` must be lower-case. */
  get(name: string): string | undefined {
    const i = this.lower.indexOf(name);
    return i === -1 ? undefined : this.values[i];
  }

  /**
   * All values of a header joined with `separator` (', ' as RFC 9110 5.3 writes it;
   * Envoy's header matchers use ','), or undefined. A single value is returned as is.
   */
  getJoined(name: string, separator = ', '): string | undefined {
    let out: string | undefined;
    for (let i = 0; i < this.lower.length; i++) {
      if (this.lower[i] === name) out = out === undefined ? this.values[i] : `${out}${separator}${this.values[i]}`;
    }
    return out;
  }

  has(name: string): boolean {
    return this.lower.indexOf(name) !== -1;
  }

  add(name: string, value: string): void {
    this.names.push(name);
    this.lower.push(name.toLowerCase());
    this.values.push(value);
  }

  /** Replaces every value of `name` with one. */
  set(name: string, value: string): void {
    const lowerName = name.toLowerCase();
    const i = this.lower.indexOf(lowerName);
    if (i === -1) {
      this.add(name, value);
      return;
    }
    this.values[i] = value;
    this.removeFrom(lowerName, i + 1);
  }

  /** Removes every value of `name` (lower-case). Returns whether any was present. */
  remove(name: string): boolean {
    const before = this.lower.length;
    this.removeFrom(name, 0);
    return this.lower.length !== before;
  }

  /** Removes every field whose lower-cased name matches, in one pass. */
  removeWhere(predicate: (lowerName: string) => boolean): void {
    const count = this.lower.length;
    // Fields before the first match stay where they are: no writes when nothing matches.
    let kept = 0;
    while (kept < count && !predicate(this.lower[kept]!)) kept++;
    if (kept === count) return;
    for (let i = kept + 1; i < count; i++) {
      if (predicate(this.lower[i]!)) continue;
      this.names[kept] = this.names[i]!;
      this.lower[kept] = this.lower[i]!;
      this.values[kept] = this.values[i]!;
      kept++;
    }
    this.names.length = kept;
    this.lower.length = kept;
    this.values.length = kept;
  }

  forEach(fn: (name: string, value: string, lowerName: string) => void): void {
    for (let i = 0; i < this.names.length; i++) fn(this.names[i]!, this.values[i]!, this.lower[i]!);
  }

  /** Serializes as `Name: value\r\n` lines (no final blank line). */
  toWire(): string {
    let out = '';
    for (let i = 0; i < this.names.length; i++) out += `${this.names[i]}: ${this.values[i]}\r\n`;
    return out;
  }

  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < this.lower.length; i++) {
      const name = this.lower[i]!;
      out[name] = out[name] === undefined ? this.values[i]! : `${out[name]}, ${this.values[i]}`;
    }
    return out;
  }

  private removeFrom(name: string, start: number): void {
    for (let i = this.lower.length - 1; i >= start; i--) {
      if (this.lower[i] === name) {
        this.names.splice(i, 1);
        this.lower.splice(i, 1);
        this.values.splice(i, 1);
      }
    }
  }
}
