/**
 * Charts with uPlot (small, fast canvas time series), loaded on first use so the first paint
 * does not wait for it. Colours come from the stylesheet's variables, so both themes work.
 */
import { useEffect, useRef } from "preact/hooks";
import { theme } from "./theme.ts";

export interface SeriesSpec {
  label: string;
  /** A CSS custom property of style.css, e.g. "--ok". */
  colour: string;
  values: Array<number | null>;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/**
 * A time chart: `x` in epoch seconds. `bars` draws columns (the upcoming histogram) instead of
 * lines with points. `dataKey` changes when the data does; the plot is rebuilt only then.
 */
export function TimeChart(
  { x, series, dataKey, bars = false, height = 200, id }: {
    x: number[];
    series: SeriesSpec[];
    dataKey: string;
    bars?: boolean;
    height?: number;
    id?: string;
  },
) {
  const box = useRef<HTMLDivElement>(null);
  const themeNow = theme.value;
  useEffect(() => {
    let dead = false;
    let plot: { destroy(): void } | undefined;
    void import("uplot").then(({ default: uPlot }) => {
      const el = box.current;
      if (dead || el === null) return;
      const axis = {
        stroke: cssVar("--muted"),
        grid: { stroke: cssVar("--line") },
        ticks: { stroke: cssVar("--line") },
      };
      plot = new uPlot(
        {
          width: Math.max(280, el.clientWidth),
          height,
          legend: { show: true },
          cursor: { drag: { x: false, y: false } },
          // One point (a job that ran once) would get a range of years: show a minute each side.
          scales: {
            x: {
              time: true,
              range: (_u, min, max) => (min === max ? [min - 60, max + 60] : [min, max]),
            },
          },
          axes: [axis, { ...axis, size: 50 }],
          series: [
            {},
            ...series.map((s) => {
              const bar = bars ? uPlot.paths.bars?.({ size: [0.9, 40] }) : undefined;
              return {
                label: s.label,
                stroke: cssVar(s.colour),
                ...(bars ? { fill: cssVar(s.colour) } : {}),
                width: bars ? 0 : 1.5,
                points: { show: !bars, size: 5 },
                ...(bar !== undefined ? { paths: bar } : {}),
              };
            }),
          ],
        },
        [x, ...series.map((s) => s.values)] as never,
        el,
      );
    });
    return () => {
      dead = true;
      plot?.destroy();
    };
  }, [dataKey, themeNow]);
  return <div class="chart" id={id} ref={box} />;
}
