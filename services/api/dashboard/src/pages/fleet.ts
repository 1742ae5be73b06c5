// Fleet: every VEN, a page at a time, filtered by the API (status, id or name), with whether
// it reports and what it can shed.

import { get } from "../api";
import { fill, h } from "../dom";
import { ago, count, kw } from "../format";
import type { Page } from "../live";
import { nextOffsetRows, PagedTable } from "../table";
import type { NetworkStats, Ven } from "../types";
import { badge, card, eventLink, venLink } from "../widgets";

export function fleetPage(): Page {
  const cards = h("div", { class: "cards" });
  const table = new PagedTable<Ven>({
    label: "VENs",
    empty: "No VENs registered yet.",
    pageSize: 100,
    statuses: ["online", "offline", "maintenance", "disabled"],
    search: "VEN id or name",
    rowKey: (v) => v.id,
    columns: [
      { key: "id", label: "VEN", cell: (v) => venLink(v.id) },
      { key: "name", label: "Name", cell: (v) => v.name },
      { key: "status", label: "Status", cell: (v) => badge(v.status) },
      { key: "lastSeen", label: "Last seen", cell: (v) => ago(v.lastSeen) },
      { key: "capability", label: "Can shed", numeric: true, cell: (v) => kw(v.metrics.shedAvailabilityKw) },
      { key: "power", label: "Power now", numeric: true, cell: (v) => kw(v.metrics.currentPowerKw) },
      { key: "event", label: "Event", cell: (v) => (v.metrics.activeEventId ? eventLink(v.metrics.activeEventId) : "—") },
    ],
    load: async (q) => {
      const answer = await get<Ven[]>("/api/vens", { limit: q.limit, offset: q.offset, status: q.status, q: q.q });
      return nextOffsetRows(answer.body, answer.headers);
    },
  });
  async function refresh(): Promise<void> {
    const [stats] = await Promise.all([get<NetworkStats>("/api/stats/network"), table.refresh()]);
    const s = stats.body;
    fill(
      cards,
      card("VENs", count(s.venCount)),
      card("Online", h("span", { "data-figure": "online" }, count(s.onlineVens)), `${count(s.venCount - s.onlineVens)} offline or not reporting`),
      card("Can shed now", kw(s.potentialLoadReductionKw)),
      card("Using now", kw(s.householdUsageKw)),
    );
  }
  return { title: "fleet", root: h("section", {}, h("h1", {}, "Fleet"), cards, table.root), refresh };
}
