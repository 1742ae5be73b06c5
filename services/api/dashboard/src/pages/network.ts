// Network: the fleet's totals and its loads by type, as the API's stats endpoints serve them.

import { get } from "../api";
import { fill, h } from "../dom";
import { count, kw } from "../format";
import type { Page } from "../live";
import type { LoadStats, NetworkStats } from "../types";
import { card } from "../widgets";

export function networkPage(): Page {
  const cards = h("div", { class: "cards" }, h("div", { class: "muted" }, "Loading…"));
  const rows = h("tbody");
  async function refresh(): Promise<void> {
    const [network, loads] = await Promise.all([get<NetworkStats>("/api/stats/network"), get<LoadStats[]>("/api/stats/loads")]);
    const s = network.body;
    fill(
      cards,
      card("VENs online", `${count(s.onlineVens)} / ${count(s.venCount)}`),
      card("Controllable power", kw(s.controllablePowerKw)),
      card("Potential reduction", kw(s.potentialLoadReductionKw)),
      card("Household usage", kw(s.householdUsageKw)),
      card("Reduction now", kw(s.currentLoadReductionKw)),
    );
    fill(
      rows,
      ...(loads.body.length
        ? loads.body.map((l) => h("tr", {}, h("td", {}, l.type), h("td", { class: "num" }, kw(l.totalCapacityKw)), h("td", { class: "num" }, kw(l.totalShedCapabilityKw)), h("td", { class: "num" }, kw(l.currentUsageKw))))
        : [h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No loads reported yet."))]),
    );
  }
  const root = h(
    "section",
    {},
    h("h1", {}, "Network"),
    cards,
    h("h2", {}, "Loads by type"),
    h("div", { class: "scroll" }, h("table", { "aria-label": "loads by type" }, h("thead", {}, h("tr", {}, ...["Type", "Capacity", "Can shed", "Using now"].map((t) => h("th", { class: t === "Type" ? null : "num" }, t)))), rows)),
  );
  return { title: "network", root, refresh };
}
