/**
 * A uPlot chart that fills its container's width, redraws when the data
 * changes and is rebuilt when the colour scheme does (uPlot bakes colours in).
 */
import { useEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import { cssVar, useAppliedTheme } from '../hooks';

export interface ChartSeries {
  label: string;
  /** A CSS variable name such as `--chart-1`. */
  color: string;
  /** Draw as bars (a histogram) instead of a line. */
  bars?: boolean;
  /** Values shown in the legend, e.g. (v) => `${v} ms`. */
  format?: (value: number) => string;
}

export interface ChartProps {
  title: string;
  data: uPlot.AlignedData;
  series: ChartSeries[];
  /** x is a Unix time in seconds (default) or a plain number. */
  time?: boolean;
  xLabel?: string;
  yLabel?: string;
  /** y from zero to max(1, data) unless given. */
  yRange?: [number, number];
  xLog?: boolean;
  /** Labels of x values on the axis and in the legend. */
  xFormat?: (value: number) => string;
  /** Where the x axis has its ticks (default: uPlot's choice). */
  xSplits?: number[];
  /** The x value's name in the legend. */
  xName?: string;
  height?: number;
}

export function Chart({ title, data, series, time = true, xLabel, yLabel, yRange, xLog, xFormat, xSplits, xName, height = 200 }: ChartProps): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = useAppliedTheme();
  const shape = `${theme}|${series.map((s) => `${s.label}${s.bars ? 'b' : ''}`).join(',')}|${time}|${xLog}|${yRange?.join(',')}|${xSplits?.join(',')}|${xName}`;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const fg = cssVar('--muted');
    const grid = cssVar('--border');
    const axis = (label: string | undefined): uPlot.Axis => ({ stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, ...(label ? { label } : {}) });
    const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.9, 40] }) : undefined;
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: {
        // Bars are centred on their x: half a bar of room at both ends.
        x: { time, ...(xLog ? { distr: 3 } : {}), ...(series.some((s) => s.bars) ? { range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => [min - 0.5, max + 0.5] } : {}) },
        y: { range: yRange ? () => yRange : (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
      },
      axes: [
        { ...axis(xLabel), ...(xFormat ? { values: (_u: uPlot, splits: number[]) => splits.map(xFormat) } : {}), ...(xSplits ? { splits: () => xSplits } : {}) },
        axis(yLabel),
      ],
      series: [
        { ...(xName ? { label: xName } : {}), ...(xFormat ? { value: (_u: uPlot, v: number | null) => (v === null ? '—' : xFormat(v)) } : {}) },
        ...series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: cssVar(s.color),
          width: 2,
          ...(s.bars && bars ? { paths: bars, fill: `${cssVar(s.color)}88`, points: { show: false } } : {}),
          ...(s.format ? { value: (_u: uPlot, v: number | null) => (v === null ? '—' : s.format!(v)) } : {}),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    const chart = new uPlot(options, data, el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Rebuilt only when the chart's shape changes; data updates go through setData below.
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <figure className="chart" style={{ margin: 0 }} aria-label={title}>
      <h3>{title}</h3>
      <div ref={host} data-points={data[0]?.length ?? 0} />
    </figure>
  );
}
