import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meshMark, utilizationEfficiency, type MeshMarkRun } from '../../src/perf/meshmark.js';

const GiB = 1024 ** 3;

function run(qps: number, p99Ms: number, cpuUsed: number, memUsed: number): MeshMarkRun {
  return { qps, p99Ms, consumption: { cpu: { used: cpuUsed, assigned: 20 }, memory: { used: memUsed, assigned: 2 * GiB } } };
}

describe('MeshMark', () => {
  it('MUE is used over assigned', () => {
    assert.equal(utilizationEfficiency({ used: 5, assigned: 20 }), 0.25);
    assert.throws(() => utilizationEfficiency({ used: 1, assigned: 0 }), /assigned must be > 0/);
  });

  it('scores 100 for a mesh that costs nothing and adds no latency', () => {
    const base = run(1000, 2, 4, 0.5 * GiB);
    assert.equal(meshMark(base, base).score, 100);
  });

  it('halving the work per core halves the CPU factor; the index is the geometric mean of the classes', () => {
    const base = run(1000, 2, 4, 0.5 * GiB);
    const mesh = run(1000, 2, 8, 0.5 * GiB);
    const mark = meshMark(base, mesh);
    assert.equal(mark.classes.cpu.efficiency, 0.5);
    assert.equal(mark.classes.memory.efficiency, 1);
    assert.equal(mark.score, Math.round(1000 * Math.sqrt(0.5)) / 10);
  });

  it('added p99 latency lowers the score in proportion', () => {
    const base = run(1000, 2, 4, 0.5 * GiB);
    const mesh = run(1000, 4, 4, 0.5 * GiB);
    assert.equal(meshMark(base, mesh).score, 50);
  });

  it('never exceeds 100 when the mesh run happens to look cheaper', () => {
    assert.equal(meshMark(run(1000, 2, 4, GiB), run(1100, 1.5, 3, 0.5 * GiB)).score, 100);
  });

  it('refuses runs that served nothing', () => {
    assert.throws(() => meshMark(run(0, 2, 1, 1), run(10, 2, 1, 1)), /off-mesh run served no requests/);
  });
});
