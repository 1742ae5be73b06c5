// Events: every event, newest first, with its kW; the form that creates one.

import { ApiError, call, get } from "../api";
import type { Context } from "../context";
import { fill, h } from "../dom";
import { kw, localInput, time } from "../format";
import type { Page } from "../live";
import { nextOffsetRows, PagedTable } from "../table";
import { eventActions } from "../actions";
import type { LiveEvent, PlatformEvent } from "../types";
import { badge, eventLink, notice } from "../widgets";

const STATUSES = ["scheduled", "active", "completed", "stopped", "cancelled"];

export function eventsPage(ctx: Context): Page {
  const message = h("div", { class: "messages" });
  const show = (el: HTMLElement) => {
    fill(message, el);
    void ctx.live.now();
  };
  const live = new Map<string, LiveEvent>();
  const table = new PagedTable<PlatformEvent>({
    label: "events",
    empty: "No events yet: create one above.",
    statuses: STATUSES,
    rowKey: (e) => e.id,
    columns: [
      { key: "id", label: "Event", cell: (e) => eventLink(e.id) },
      { key: "status", label: "Status", cell: (e) => badge(e.status) },
      { key: "start", label: "Start", cell: (e) => time(e.startTime) },
      { key: "end", label: "End", cell: (e) => time(e.endTime) },
      { key: "requested", label: "Requested", numeric: true, cell: (e) => kw(e.requestedReductionKw) },
      { key: "allocated", label: "Allocated", numeric: true, cell: (e) => kw(e.allocatedKw) },
      {
        key: "delivered",
        label: "Delivered",
        numeric: true,
        cell: (e) => (live.has(e.id) ? h("strong", {}, kw(live.get(e.id)!.currentReductionKw)) : kw(e.actualReductionKw)),
      },
      { key: "actions", label: "", cell: (e) => h("span", { class: "actions" }, ...eventActions(e, ctx.canWrite, show)) },
    ],
    load: async (q) => {
      const [page, current] = await Promise.all([
        get<PlatformEvent[]>("/api/events", { limit: q.limit, offset: q.offset, status: q.status }),
        get<LiveEvent[]>("/api/events/current", { limit: 100 }),
      ]);
      live.clear();
      for (const e of current.body) live.set(e.id, e);
      return nextOffsetRows(page.body, page.headers);
    },
  });
  const root = h(
    "section",
    {},
    h("h1", {}, "Demand-response events"),
    ctx.canWrite ? createForm(show) : notice("warn", "This token may read only: creating, stopping and cancelling are hidden."),
    message,
    h("h2", {}, "All events"),
    table.root,
  );
  return { title: "events", root, refresh: () => table.refresh() };
}

/** Inputs named like the API's fields, so a 422 reason lands next to the field it names. */
function createForm(done: (message: HTMLElement) => void): HTMLElement {
  const start = new Date(Date.now() + 60_000);
  const end = new Date(start.getTime() + 30 * 60_000);
  const field = (name: string, label: string, input: HTMLElement, hint?: string) =>
    h("label", { class: "field", "data-field": name }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null, h("span", { class: "field-error", role: "alert" }));
  const startNow = h("input", { type: "checkbox", name: "startNow" });
  const startInput = h("input", { type: "datetime-local", name: "startTime", value: localInput(start) });
  startNow.addEventListener("change", () => (startInput.disabled = startNow.checked));
  const formError = h("div", { class: "form-error", role: "alert" });
  const form: HTMLFormElement = h(
    "form",
    { class: "create", novalidate: true, "aria-label": "create event" },
    field("startTime", "Start", startInput),
    field("status", "Start now", startNow),
    field("endTime", "End", h("input", { type: "datetime-local", name: "endTime", value: localInput(end) })),
    field("requestedReductionKw", "Reduce by (kW)", h("input", { type: "number", name: "requestedReductionKw", step: "any", value: "100" })),
    field("venIds", "VENs (optional)", h("input", { type: "text", name: "venIds", placeholder: "ven-001, ven-002" }), "empty: every online VEN"),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, "Create event"), formError),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
    formError.textContent = "";
    const data = new FormData(form);
    const body: Record<string, unknown> = {
      endTime: isoOrRaw(String(data.get("endTime") ?? "")),
      requestedReductionKw: numberOrRaw(String(data.get("requestedReductionKw") ?? "")),
    };
    if (startNow.checked) body.status = "active";
    else body.startTime = isoOrRaw(String(data.get("startTime") ?? ""));
    const vens = String(data.get("venIds") ?? "").split(/[\s,]+/).filter(Boolean);
    if (vens.length) body.venIds = vens;
    try {
      const answer = await call<PlatformEvent>("POST", "/api/events", body);
      const created = h("span", {}, "Created ", eventLink(answer.body.id), ` (${answer.body.status}).`);
      done(answer.behind ? notice("warn", created, " The read model has not caught up yet: it will show in a few seconds.") : notice("ok", created));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const unplaced = err.problems.filter((p) => !placeError(form, p.field, p.reason));
      if (!err.problems.length || unplaced.length) {
        formError.textContent = unplaced.length ? unplaced.map((p) => `${p.field}: ${p.reason}`).join("; ") : err.message;
      }
    }
  });
  return form;
}

/** Show `reason` under the input the API's `field` (e.g. `venIds.2`) names; false when none. */
function placeError(form: HTMLFormElement, field: string, reason: string): boolean {
  const slot = form.querySelector(`[data-field="${CSS.escape(field.split(".")[0])}"] .field-error`);
  if (!slot) return false;
  slot.textContent = slot.textContent ? `${slot.textContent}; ${reason}` : reason;
  return true;
}

/** The browser's local time as ISO 8601 with zone; what cannot be read goes as typed, for the API to refuse. */
function isoOrRaw(value: string): string {
  const d = new Date(value);
  return value && !Number.isNaN(d.getTime()) ? d.toISOString() : value;
}

function numberOrRaw(value: string): number | string {
  const n = Number(value);
  return value.trim() !== "" && Number.isFinite(n) ? n : value;
}
