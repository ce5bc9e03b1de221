/** A small live time-series chart (uPlot) of the last minutes, one or more series. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Time (s) and each series' values, oldest first. */
export type Samples = readonly [readonly number[], ...(readonly number[])[]];

const COLORS = ['#2f5d9e', '#c2410c', '#1b7f3b', '#7c3aed'];

export function SparkChart({
  testid,
  title,
  series,
  samples,
}: {
  testid: string;
  title: string;
  series: readonly string[];
  samples: Samples;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>(undefined);
  useEffect(() => {
    const chart = new uPlot(
      {
        width: 300,
        height: 120,
        legend: { show: true, live: false },
        cursor: { show: false },
        series: [
          {},
          ...series.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5 })),
        ],
        axes: [{ size: 24 }, { size: 40 }],
      },
      samples as unknown as uPlot.AlignedData,
      box.current!,
    );
    plot.current = chart;
    return () => chart.destroy();
  }, [series.join(',')]);
  useEffect(() => {
    plot.current?.setData(samples as unknown as uPlot.AlignedData);
  }, [samples]);
  return (
    <figure class="chart" data-testid={testid}>
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: the last minutes`} />
    </figure>
  );
}
