// Small pieces every page uses: status badges, figure cards, links, confirmations.

import { type Child, h } from "./dom";

export function badge(status: string): HTMLElement {
  return h("span", { class: `badge s-${status.replace(/[^a-z_]/gi, "")}` }, status.replace("_", " "));
}

export function card(label: string, value: Child, note?: Child): HTMLElement {
  return h("div", { class: "card" }, h("div", { class: "card-label" }, label), h("div", { class: "card-value" }, value), note ? h("div", { class: "card-note" }, note) : null);
}

export function link(hash: string, text: Child): HTMLAnchorElement {
  return h("a", { href: hash }, text);
}

export const eventLink = (id: string) => link(`#/events/${encodeURIComponent(id)}`, id);
export const venLink = (id: string) => link(`#/vens/${encodeURIComponent(id)}`, id);

/** A modal yes/no question; resolves true only on the confirming button. */
export function confirmDialog(question: string, yes: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm" },
      h("p", {}, question),
      h(
        "form",
        { method: "dialog" },
        h("button", { value: "no", type: "submit" }, "Keep it"),
        h("button", { value: "yes", type: "submit", class: "danger" }, yes),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A message under a form or a heading: ok, warning (e.g. read model behind) or error. */
export function notice(kind: "ok" | "warn" | "error", ...text: Child[]): HTMLElement {
  return h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, ...text);
}
