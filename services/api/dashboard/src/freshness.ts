// The "read model behind" banner: the newest reading the read model holds, against the
// server's clock. Stale means no VEN is reporting or the projector is behind: either way,
// what the pages show is not live, and the operator must know.

import { get } from "./api";
import { fill, h } from "./dom";
import { duration } from "./format";
import type { Freshness } from "./types";

/** Readings arrive every few seconds; this much silence is worth a banner. */
const STALE_MS = 30_000;

export function watchFreshness(banner: HTMLElement, periodMs: number): void {
  const check = async () => {
    try {
      const { body } = await get<Freshness>("/api/stats/freshness");
      const now = new Date(body.now).getTime();
      const newest = body.newestReadingAt ? new Date(body.newestReadingAt).getTime() : null;
      if (newest === null) show(banner, "No VEN reading in the read model yet.");
      else if (now - newest > STALE_MS) {
        show(banner, `Read model behind: the newest VEN reading is ${duration(now - newest)} old (no VEN is reporting, or the projector is behind). Figures shown are not live.`);
      } else fill(banner);
    } catch {
      fill(banner); // the page's own status line reports an unreachable API
    }
  };
  void check();
  window.setInterval(() => void check(), periodMs);
}

function show(banner: HTMLElement, text: string): void {
  fill(banner, h("div", { class: "notice warn", role: "status", "data-banner": "behind" }, text));
}
