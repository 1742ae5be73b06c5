// One event, live: requested vs delivered kW, the countdown, command outcomes and latencies,
// and every VEN's answer in a server-paged table.

import { get } from "../api";
import { eventActions } from "../actions";
import { seconds, TimeChart } from "../chart";
import type { Context } from "../context";
import { fill, h } from "../dom";
import { count, duration, kw, ms, time } from "../format";
import type { Page } from "../live";
import { PagedTable } from "../table";
import type { DeliveryPoint, EventAck, EventAcks, EventCommands, EventDelivery, LiveEvent } from "../types";
import { badge, card, venLink } from "../widgets";

/** About what one delivery request may read (10,000 VENs x 2 minutes: ~300 ms in Postgres). */
const SLICE_READINGS = 250_000;
/** The contract's report interval: how many readings a VEN sends a minute. */
const REPORT_INTERVAL_MS = 5_000;
const ACK_STATUSES = ["targeted", "allocated", "pending", "acked", "rejected", "failed", "timed_out"];

export function eventPage(ctx: Context, id: string): Page {
  const path = `/api/events/${encodeURIComponent(id)}`;
  const head = h("div", { class: "event-head" }, h("h1", {}, id));
  const countdown = h("div", { class: "countdown", "aria-live": "off" });
  const actions = h("div", { class: "actions" });
  const messages = h("div", { class: "messages" });
  const cards = h("div", { class: "cards" }, h("div", { class: "muted" }, "Loading…"));
  const chart = new TimeChart("Requested vs delivered kW", [
    { label: "requested", color: "#8a8f98", dashed: true, stepped: true },
    { label: "delivered", color: "#1a7f37" },
  ]);
  const chartNote = h("div", { class: "muted chart-note" });
  const points = new Map<string, DeliveryPoint>();
  let event: LiveEvent | null = null;
  /** The first answer's bucket length, asked again with `start` so the buckets stay put. */
  let step: number | null = null;
  /** Where the next live request starts: the API's first unsettled bucket. */
  let settledUntil: string | null = null;
  /** The chart holds every bucket from here on (epoch ms); null before the first answer. */
  let heldFrom: number | null = null;
  /** The VENs commanded: how large a slice of history one request may ask for. */
  let vens = 10_000;

  const acks = new PagedTable<EventAck>({
    label: "VEN acks",
    empty: "No VENs take part in this event.",
    statuses: ACK_STATUSES,
    search: "VEN id or name",
    defaultSort: "venId",
    rowKey: (a) => a.venId,
    columns: [
      { key: "venId", label: "VEN", sort: "venId", cell: (a) => venLink(a.venId) },
      { key: "venName", label: "Name", sort: "venName", cell: (a) => a.venName ?? "—" },
      { key: "shedKw", label: "Allocated", sort: "shedKw", numeric: true, cell: (a) => kw(a.shedKw) },
      { key: "actualShedKw", label: "Shed", sort: "actualShedKw", numeric: true, cell: (a) => kw(a.actualShedKw) },
      { key: "responseMs", label: "Response", sort: "responseMs", numeric: true, cell: (a) => ms(a.responseMs) },
      { key: "status", label: "Ack", sort: "status", cell: (a) => badge(a.status) },
      { key: "circuits", label: "Circuits curtailed", cell: (a) => circuits(a) },
      { key: "restore", label: "Restore", cell: (a) => (a.restoreStatus ? badge(a.restoreStatus) : "—") },
    ],
    load: async (q) => {
      const answer = await get<EventAcks>(`${path}/acks`, { limit: q.limit, offset: q.offset, sort: q.sort, status: q.status, q: q.q });
      const { totalCount, acks: rows } = answer.body;
      return { rows, total: totalCount, hasNext: q.offset + rows.length < totalCount };
    },
  });

  const tick = window.setInterval(() => drawCountdown(), 1000);
  function drawCountdown(): void {
    if (!event) return;
    const now = Date.now();
    const start = new Date(event.startTime).getTime();
    const end = new Date(event.endTime).getTime();
    if (event.status === "scheduled") fill(countdown, "starts in ", h("strong", {}, duration(start - now)));
    else if (event.status === "active") fill(countdown, "ends in ", h("strong", {}, duration(end - now)), ` (at ${time(event.endTime)})`);
    else fill(countdown, `${event.status} ${time(event.endedAt ?? event.endTime)}`);
  }

  async function refresh(): Promise<void> {
    const [detail, commands] = await Promise.all([
      get<LiveEvent>(path, { vens: false }),
      get<EventCommands>(`${path}/commands`),
      event ? delivery(event) : null,
      acks.refresh(),
    ]);
    const first = event === null;
    event = detail.body;
    vens = commands.body.eventCommands;
    if (first) await delivery(event);
    drawHead(event);
    drawCards(event, commands.body);
    drawChart(event, step);
    drawCountdown();
  }

  /** The buckets settled since the last answer, and, while the history is not all here, one
   * older slice: every request stays bounded however long the event and large the fleet, and
   * each reading is read once (docs/dashboard.md). */
  async function delivery(e: LiveEvent): Promise<void> {
    const origin = Date.parse(e.activatedAt ?? e.startTime);
    const sliceMs = Math.max(60_000, (SLICE_READINGS * REPORT_INTERVAL_MS) / Math.max(1, vens));
    const asks: { start: string; end?: string }[] = [];
    if (heldFrom === null) {
      heldFrom = Math.max(origin, Math.min(Date.now(), Date.parse(e.endedAt ?? e.endTime)) - sliceMs);
      asks.push({ start: new Date(heldFrom).toISOString() });
    } else {
      asks.push({ start: settledUntil ?? new Date(heldFrom).toISOString() });
      if (heldFrom > origin) {
        const end = heldFrom;
        heldFrom = Math.max(origin, heldFrom - sliceMs);
        asks.push({ start: new Date(heldFrom).toISOString(), end: new Date(end).toISOString() });
      }
    }
    const [newest, ...older] = await Promise.all(asks.map((q) => get<EventDelivery>(`${path}/delivery`, { ...q, step_s: step })));
    step = newest.body.stepSeconds;
    settledUntil = newest.body.settledUntil;
    for (const { body } of [newest, ...older]) for (const p of body.points) points.set(p.timestamp, p);
  }

  function drawHead(e: LiveEvent): void {
    fill(head, h("h1", {}, `Event ${e.id} `, badge(e.status)), h("div", { class: "muted" }, `${time(e.startTime)} → ${time(e.endTime)}`), countdown);
    fill(actions, ...eventActions(e, ctx.canWrite, (m) => {
      fill(messages, m);
      void ctx.live.now();
    }));
  }

  function drawCards(e: LiveEvent, c: EventCommands): void {
    const targeted = e.allocatedKw === null ? "not yet allocated" : `${kw(e.unallocatedKw)} could not be allocated`;
    fill(
      cards,
      card("Requested", kw(e.requestedReductionKw)),
      card("Allocated", kw(e.allocatedKw), targeted),
      card("Delivered now", h("span", { "data-figure": "delivered" }, kw(e.currentReductionKw)), e.status === "active" ? "reported by online VENs" : `final: ${kw(e.actualReductionKw)}`),
      card("VENs responding", count(e.vensResponding)),
      card("Commands", `${count(c.sent)} sent`, `${count(c.acked)} acked · ${count(c.timedOut)} timed out · ${count(c.rejected + c.failed)} refused · ${count(c.retries)} retries`),
      card("Restores", h("span", { "data-figure": "restores" }, `${count(c.restoresAcked)} / ${count(c.restores)}`), "acked / sent"),
      card("Response p50 / p99", `${ms(c.latencyP50Ms)} / ${ms(c.latencyP99Ms)}`),
    );
  }

  function drawChart(e: LiveEvent, stepS: number | null): void {
    const from = seconds(e.activatedAt ?? e.startTime);
    const to = seconds(e.endedAt ?? e.endTime);
    const sorted = [...points.values()].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
    const x = [from, ...sorted.map((p) => seconds(p.timestamp)).filter((t) => t > from && t < to), to];
    const byTime = new Map(sorted.map((p) => [seconds(p.timestamp), p.deliveredKw]));
    const requested = x.map(() => e.requestedReductionKw);
    const delivered = x.map((t) => byTime.get(t) ?? null);
    chart.set(x, [requested, delivered]);
    fill(chartNote, sorted.length ? `delivered: sum over VENs of their mean shed per ${stepS}-second bucket (from telemetry), once a bucket has settled: the line trails "delivered now" by a bucket or two` : "no settled bucket of this event's telemetry yet (a bucket shows once it has ended and a report interval has passed)");
  }

  const root = h(
    "section",
    {},
    head,
    actions,
    messages,
    cards,
    chart.root,
    chartNote,
    h("h2", {}, "VENs"),
    acks.root,
  );
  return {
    title: "event",
    root,
    refresh,
    dispose: () => {
      window.clearInterval(tick);
      chart.dispose();
    },
  };
}

function circuits(a: EventAck): string {
  const names = a.circuitsCurtailed.map((c) => String(c.name ?? c.loadId ?? c.id ?? "?"));
  return names.length ? names.join(", ") : "—";
}
