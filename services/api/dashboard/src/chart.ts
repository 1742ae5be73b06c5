// Time-series charts on uPlot (a small, well-kept canvas chart library): thousands of points
// redraw in milliseconds, so a live chart can refresh every few seconds.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom";

export interface Series {
  label: string;
  color: string;
  /** A dashed line, for targets such as the requested kW. */
  dashed?: boolean;
  /** Draw as steps (a value holds until the next one). */
  stepped?: boolean;
}

export class TimeChart {
  readonly root = h("div", { class: "chart" });
  private plot: uPlot | null = null;
  private readonly observer: ResizeObserver;

  constructor(
    private readonly label: string,
    private readonly series: Series[],
    private readonly height = 260,
  ) {
    this.root.setAttribute("role", "img");
    this.root.setAttribute("aria-label", label);
    this.observer = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: this.height }));
    this.observer.observe(this.root);
  }

  /** `x`: epoch seconds; `ys[i]`: the values of series i (null: no value there). */
  set(x: number[], ys: (number | null)[][]): void {
    const data = [x, ...ys] as uPlot.AlignedData;
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    this.plot = new uPlot(
      {
        width: this.width(),
        height: this.height,
        title: this.label,
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max * 1.1)] } },
        axes: [{}, { label: "kW", size: 60 }],
        series: [
          {},
          ...this.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            dash: s.dashed ? [6, 4] : undefined,
            paths: s.stepped ? uPlot.paths.stepped!({ align: 1 }) : undefined,
            value: (_u: uPlot, v: number | null) => (v === null ? "—" : `${v.toFixed(1)} kW`),
          })),
        ],
      },
      data,
      this.root,
    );
  }

  dispose(): void {
    this.observer.disconnect();
    this.plot?.destroy();
  }

  private width(): number {
    return Math.max(300, this.root.clientWidth || 800);
  }
}

export const seconds = (iso: string): number => new Date(iso).getTime() / 1000;
