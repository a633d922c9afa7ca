/**
 * MeshMark: SMP's 0–100 index of the value a mesh delivers against its
 * overhead. SMP defines its inputs, the MeshMark Utilization Efficiencies
 * (MUE: resources used ÷ resources assigned, per consumption class), but
 * publishes no closed formula, so Weft's is written here and in
 * docs/performance.md, and every score is shown with its inputs:
 *
 *   MUE(c)        = used(c) ÷ assigned(c)                       per class c, per run
 *   efficiency(c) = (QPS_mesh ÷ MUE_mesh(c)) ÷ (QPS_base ÷ MUE_base(c))
 *                   — work done per unit of utilisation, on-mesh relative to off-mesh
 *   latency       = p99_base ÷ p99_mesh
 *   MeshMark      = 100 × min(1, latency) × geomean over c of min(1, efficiency(c))
 *
 * The same load runs off-mesh (the baseline) and on-mesh, with the same
 * resources assigned, so a mesh that costs nothing and adds no latency scores
 * 100, one that halves the work per core scores 50 on that class, and so on.
 */

export type ConsumptionClass = 'cpu' | 'memory';

/** One class's consumption in one run: CPU in core-seconds, memory in bytes. */
export interface Consumption {
  used: number;
  assigned: number;
}

/** One run's inputs: what it achieved and what it consumed. */
export interface MeshMarkRun {
  qps: number;
  p99Ms: number;
  consumption: Readonly<Record<ConsumptionClass, Consumption>>;
}

export interface ClassScore {
  mueBaseline: number;
  mueMesh: number;
  efficiency: number;
}

export interface MeshMark {
  /** 0–100, one decimal. */
  score: number;
  latencyFactor: number;
  classes: Record<ConsumptionClass, ClassScore>;
  baseline: MeshMarkRun;
  mesh: MeshMarkRun;
}

const CLASSES: readonly ConsumptionClass[] = ['cpu', 'memory'];

/** MeshMark Utilization Efficiency of one class: used ÷ assigned. */
export function utilizationEfficiency(consumption: Consumption): number {
  if (!(consumption.assigned > 0)) throw new RangeError(`MUE: assigned must be > 0, got ${consumption.assigned}`);
  if (!(consumption.used >= 0)) throw new RangeError(`MUE: used must be ≥ 0, got ${consumption.used}`);
  return consumption.used / consumption.assigned;
}

function checkRun(run: MeshMarkRun, name: string): void {
  if (!(run.qps > 0)) throw new RangeError(`MeshMark: the ${name} run served no requests (QPS ${run.qps})`);
  if (!(run.p99Ms > 0)) throw new RangeError(`MeshMark: the ${name} run has no p99 latency (${run.p99Ms})`);
}

/** The index from a baseline (off-mesh) run and the same load on-mesh. */
export function meshMark(baseline: MeshMarkRun, mesh: MeshMarkRun): MeshMark {
  checkRun(baseline, 'off-mesh');
  checkRun(mesh, 'on-mesh');
  const latencyFactor = baseline.p99Ms / mesh.p99Ms;
  const classes = {} as Record<ConsumptionClass, ClassScore>;
  let logSum = 0;
  for (const name of CLASSES) {
    const mueBaseline = utilizationEfficiency(baseline.consumption[name]);
    const mueMesh = utilizationEfficiency(mesh.consumption[name]);
    // A run that used nothing measurable of a class is as efficient as possible in it.
    const efficiency = mueMesh === 0 ? 1 : mueBaseline === 0 ? 0 : mesh.qps / mueMesh / (baseline.qps / mueBaseline);
    classes[name] = { mueBaseline, mueMesh, efficiency };
    logSum += Math.log(Math.max(Math.min(1, efficiency), Number.MIN_VALUE));
  }
  const geomean = Math.exp(logSum / CLASSES.length);
  const score = Math.round(1000 * Math.min(1, latencyFactor) * geomean) / 10;
  return { score, latencyFactor, classes, baseline, mesh };
}
