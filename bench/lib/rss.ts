/** Resident memory of a process and everything it forked, from /proc. */
import { readdirSync, readFileSync } from 'node:fs';

function vmRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

function childPids(pid: number): number[] {
  const children: number[] = [];
  // Any thread may have forked, so ask every task.
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
    if (list) for (const child of list.split(' ')) children.push(Number(child));
  }
  return children;
}

/** VmRSS summed over `pid` and its descendants (a proxy with worker processes counts as one). */
export function processTreeRssBytes(pid: number): number {
  let total = 0;
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    try {
      total += vmRssBytes(next);
      pending.push(...childPids(next));
    } catch {
      // The process exited between listing and reading.
    }
  }
  return total;
}
