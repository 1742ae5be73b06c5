// One VEN: its power and shed over the last hour, its circuits, and its latest acks.

import { get } from "../api";
import { seconds, TimeChart } from "../chart";
import type { Context } from "../context";
import { fill, h } from "../dom";
import { ago, kw, time } from "../format";
import type { Page } from "../live";
import type { Telemetry, Ven, VenAck } from "../types";
import { badge, card, eventLink } from "../widgets";

const HOUR_MS = 3_600_000;

export function venPage(ctx: Context, id: string): Page {
  const path = `/api/vens/${encodeURIComponent(id)}`;
  const head = h("div", {}, h("h1", {}, id));
  const cards = h("div", { class: "cards" }, h("div", { class: "muted" }, "Loading…"));
  const chart = new TimeChart("Power and shed, last hour", [
    { label: "used", color: "#0969da" },
    { label: "shed", color: "#1a7f37" },
  ]);
  const loads = h("tbody");
  const acks = h("tbody");

  async function refresh(): Promise<void> {
    const start = new Date(Date.now() - HOUR_MS).toISOString();
    const [ven, telemetry, history] = await Promise.all([
      get<Ven>(path),
      get<Telemetry>(`${path}/telemetry`, { start, limit: 2000 }),
      get<{ events: VenAck[] }>(`${path}/events`, { limit: 10 }),
    ]);
    const v = ven.body;
    const site = ctx.config.sitePageUrl?.replace("{venId}", encodeURIComponent(v.id));
    fill(
      head,
      h("h1", {}, `${v.name} `, badge(v.status)),
      h("div", { class: "muted" }, `${v.id} · last seen ${ago(v.lastSeen)}`, site ? " · " : "", site ? h("a", { href: site, target: "_blank", rel: "noopener" }, "site's local page") : ""),
    );
    fill(
      cards,
      card("Power now", kw(v.metrics.currentPowerKw)),
      card("Can shed", kw(v.metrics.shedAvailabilityKw)),
      card("Event", v.metrics.activeEventId ? eventLink(v.metrics.activeEventId) : "none"),
    );
    const points = [...telemetry.body.telemetry].reverse();
    chart.set(points.map((p) => seconds(p.timestamp)), [points.map((p) => p.usedPowerKw), points.map((p) => p.shedPowerKw)]);
    const shed = new Set(v.metrics.shedLoadIds);
    fill(
      loads,
      ...(v.loads.length
        ? v.loads.map((l) =>
            h(
              "tr",
              {},
              h("td", {}, l.name ?? l.id ?? "—"),
              h("td", {}, l.type ?? "—"),
              h("td", { class: "num" }, kw(l.capacityKw)),
              h("td", { class: "num" }, kw(l.shedCapabilityKw)),
              h("td", { class: "num" }, kw(l.currentPowerKw)),
              h("td", {}, l.id && shed.has(l.id) ? badge("curtailed") : l.enabled === false ? badge("disabled") : "—"),
            ),
          )
        : [h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No circuits reported yet."))]),
    );
    fill(
      acks,
      ...(history.body.events.length
        ? history.body.events.map((a) =>
            h(
              "tr",
              {},
              h("td", {}, time(a.timestamp)),
              h("td", {}, a.op),
              h("td", {}, badge(a.status)),
              h("td", {}, a.eventId ? eventLink(a.eventId) : "—"),
              h("td", { class: "num" }, kw(a.actualShedKw)),
            ),
          )
        : [h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No acks yet."))]),
    );
  }

  const root = h(
    "section",
    {},
    head,
    cards,
    chart.root,
    h("h2", {}, "Circuits"),
    h("div", { class: "scroll" }, h("table", { "aria-label": "circuits" }, h("thead", {}, h("tr", {}, ...["Circuit", "Type", "Capacity", "Can shed", "Power now", ""].map((t, i) => h("th", { class: i >= 2 && i <= 4 ? "num" : null }, t)))), loads)),
    h("h2", {}, "Latest acks"),
    h("div", { class: "scroll" }, h("table", { "aria-label": "acks" }, h("thead", {}, h("tr", {}, ...["When", "Command", "Ack", "Event", "Shed"].map((t) => h("th", { class: t === "Shed" ? "num" : null }, t)))), acks)),
  );
  return { title: "ven", root, refresh, dispose: () => chart.dispose() };
}
