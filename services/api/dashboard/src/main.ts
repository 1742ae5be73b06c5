// The operator dashboard: hash routes over the public REST API, one page shown at a time,
// kept live by polling. Log in with an API token (docs/dashboard.md).

import "./style.css";
import { ApiError, call, get, session } from "./api";
import type { Context } from "./context";
import { fill, h } from "./dom";
import { watchFreshness } from "./freshness";
import { Live, type Page } from "./live";
import { eventPage } from "./pages/event";
import { eventsPage } from "./pages/events";
import { fleetPage } from "./pages/fleet";
import { networkPage } from "./pages/network";
import { venPage } from "./pages/ven";
import type { DashboardConfig, WhoAmI } from "./types";

const main = h("main", {});
const status = h("div", { class: "status" });
const banner = h("div", { class: "banner" });
const who = h("span", { class: "who" });
const nav = h(
  "nav",
  {},
  h("strong", { class: "brand" }, "DR platform"),
  h("a", { href: "#/events" }, "Events"),
  h("a", { href: "#/fleet" }, "Fleet"),
  h("a", { href: "#/network" }, "Network"),
  status,
  who,
);

async function start(): Promise<void> {
  document.body.append(h("header", {}, nav, banner), main);
  const config = (await call<DashboardConfig>("GET", "config.json", undefined, null)).body;
  const live = new Live(status, config.refreshSeconds * 1000);
  let ctx: Context | null = null;

  window.addEventListener("dr:unauthorized", (e) => {
    session.token = null;
    ctx = null;
    live.stop();
    void login((e as CustomEvent<string>).detail);
  });

  async function login(reason?: string): Promise<void> {
    fill(who);
    const input = h("input", { type: "password", name: "token", autocomplete: "off", "aria-label": "API token", required: true });
    const error = h("div", { class: "form-error", role: "alert" }, reason ? `Logged out: ${reason}` : "");
    const form = h(
      "form",
      { class: "login", "aria-label": "log in" },
      h("h1", {}, "Log in"),
      h("p", { class: "muted" }, "Paste an API token (an operator's to run events; a reader's to watch). It stays in this tab only."),
      input,
      h("button", { type: "submit", class: "primary" }, "Log in"),
      error,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await call<WhoAmI>("GET", "/api/whoami", undefined, input.value.trim());
        session.token = input.value.trim();
        await route();
      } catch (err) {
        error.textContent = err instanceof ApiError ? err.message : String(err);
      }
    });
    fill(main, form);
    input.focus();
  }

  async function route(): Promise<void> {
    if (!session.token) return login();
    if (!ctx) {
      const me = (await get<WhoAmI>("/api/whoami")).body;
      ctx = { canWrite: me.role === "operator", config, live };
      fill(who, `${me.subject ?? "token"} (${me.role}) `, h("button", { type: "button", onclick: () => logout() }, "Log out"));
      watchFreshness(banner, config.refreshSeconds * 1000 * 2);
    }
    const mountedAt = performance.now();
    const page = pageFor(ctx, location.hash);
    for (const a of nav.querySelectorAll("a")) a.classList.toggle("current", location.hash.startsWith(a.getAttribute("href")!));
    document.title = `${page.title} · DR platform`;
    fill(main, page.root);
    live.show(page, mountedAt);
  }

  function logout(): void {
    session.token = null;
    location.reload();
  }

  window.addEventListener("hashchange", () => void route().catch(fatal));
  await route();
}

function pageFor(ctx: Context, hash: string): Page {
  const [, section, id] = hash.replace(/^#\/?/, "/").split("/").map(decodeURIComponent);
  if (section === "events" && id) return eventPage(ctx, id);
  if (section === "vens" && id) return venPage(ctx, id);
  if (section === "fleet") return fleetPage();
  if (section === "network") return networkPage();
  if (section !== "events") history.replaceState(null, "", "#/events");
  return eventsPage(ctx);
}

function fatal(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) return; // the login form is shown instead
  fill(main, h("div", { class: "notice error", role: "alert" }, `The dashboard could not start: ${(err as Error).message}`));
}

start().catch(fatal);
