/**
 * A reader for the Prometheus text exposition format (0.0.4), reduced to what
 * the golden metrics need: the samples of a chosen set of metric names, with
 * their labels. Comments, other families and malformed lines are skipped
 * (a proxy's output is trusted to be well formed, but a bad line must never
 * break a scrape of everything else).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** The samples whose metric name is in `names` (for a histogram, list `x_bucket`, `x_sum`, `x_count`). */
export function parsePrometheusText(text: string, names: ReadonlySet<string>): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.charCodeAt(0) === 35 /* # */) continue;
    const name = NAME.exec(line)?.[0];
    if (name === undefined || !names.has(name)) continue;
    const sample = parseSample(line, name);
    if (sample !== undefined) samples.push(sample);
  }
  return samples;
}

function parseSample(line: string, name: string): Sample | undefined {
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (i < line.length && line[i] !== '}') {
      const eq = line.indexOf('=', i);
      if (eq === -1 || line[eq + 1] !== '"') return undefined;
      const key = line.slice(i, eq).trim();
      let value = '';
      let j = eq + 2;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\') {
          j++;
          value += line[j] === 'n' ? '\n' : (line[j] ?? '');
        } else value += line[j];
      }
      if (j >= line.length) return undefined;
      labels[key] = value;
      i = j + 1;
      if (line[i] === ',') i++;
    }
    if (line[i] !== '}') return undefined;
    i++;
  }
  const rest = line.slice(i).trim().split(/\s+/)[0];
  if (rest === undefined || rest === '') return undefined;
  const value = rest === '+Inf' ? Infinity : rest === '-Inf' ? -Infinity : Number(rest);
  if (Number.isNaN(value)) return undefined;
  return { name, labels, value };
}
