// Keeps the shown page current: refresh now, then every few seconds while the tab is visible,
// never two refreshes at once. Each refresh is timed (window.__dashboard, and the status line)
// so a live update's cost can be measured in a real browser (bench/dashboard.py).

import { ApiError } from "./api";
import { fill, h } from "./dom";

export interface Page {
  title: string;
  root: HTMLElement;
  /** Fetch and redraw; throws to report an error (the last good content stays). */
  refresh(): Promise<void>;
  dispose?(): void;
}

interface Timings {
  page: string;
  refreshes: number;
  /** Route -> first page drawn; and the same moment since navigation started (a fresh load). */
  firstRenderMs: number | null;
  loadedAtMs: number | null;
  lastRefreshMs: number | null;
  lastError: string | null;
}

declare global {
  interface Window {
    __dashboard: Timings;
  }
}

export class Live {
  private timer: number | undefined;
  private running = false;
  private page: Page | null = null;
  private generation = 0;

  constructor(
    private readonly status: HTMLElement,
    private readonly periodMs: number,
  ) {
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) void this.tick();
    });
  }

  show(page: Page, mountedAt: number): void {
    this.page?.dispose?.();
    this.page = page;
    this.generation += 1;
    window.__dashboard = { page: page.title, refreshes: 0, firstRenderMs: null, loadedAtMs: null, lastRefreshMs: null, lastError: null };
    fill(this.status, "loading…");
    this.running = false;
    void this.tick(mountedAt);
  }

  /** Stop refreshing (logged out): the shown page is dropped. */
  stop(): void {
    window.clearTimeout(this.timer);
    this.page?.dispose?.();
    this.page = null;
    this.generation += 1;
    this.running = false;
    fill(this.status);
  }

  /** Refresh the current page now (after a write, say) instead of waiting for the next tick. */
  async now(): Promise<void> {
    await this.tick();
  }

  private async tick(mountedAt?: number): Promise<void> {
    window.clearTimeout(this.timer);
    const page = this.page;
    if (!page || this.running) return;
    this.running = true;
    const generation = this.generation;
    const started = performance.now();
    try {
      await page.refresh();
      if (generation !== this.generation) return;
      const took = performance.now() - started;
      const timings = window.__dashboard;
      timings.refreshes += 1;
      timings.lastRefreshMs = took;
      timings.lastError = null;
      if (timings.firstRenderMs === null) {
        timings.firstRenderMs = performance.now() - (mountedAt ?? started);
        timings.loadedAtMs = performance.now();
      }
      fill(this.status, `updated ${new Date().toLocaleTimeString()} · ${Math.round(took)} ms`);
      this.status.className = "status";
    } catch (err) {
      if (generation !== this.generation) return;
      const message = err instanceof ApiError && err.status === 0 ? err.message : `${(err as Error).message}`;
      window.__dashboard.lastError = message;
      fill(this.status, h("span", {}, `update failed: ${message} — retrying`));
      this.status.className = "status error";
    } finally {
      if (generation === this.generation) {
        this.running = false;
        this.timer = window.setTimeout(() => void this.tick(), this.periodMs);
      }
    }
  }
}
