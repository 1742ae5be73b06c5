// Stop and cancel: the two event writes besides create, shared by the list and the event page.

import { ApiError, call } from "./api";
import { h } from "./dom";
import type { PlatformEvent } from "./types";
import { confirmDialog, notice } from "./widgets";

interface Action {
  label: string;
  question: string;
  confirm: string;
  method: string;
  path: string;
  success: string;
}

/** The buttons an operator may press for `event` now; `done` shows the outcome. */
export function eventActions(event: PlatformEvent, canWrite: boolean, done: (message: HTMLElement) => void): HTMLElement[] {
  const id = encodeURIComponent(event.id);
  const actions: Record<string, Action> = {
    active: {
      label: "Stop",
      question: `Stop ${event.id} now? Every VEN is told to restore its load.`,
      confirm: "Stop event",
      method: "POST",
      path: `/api/events/${id}/stop`,
      success: `Stop of ${event.id} accepted: the VENs are restoring.`,
    },
    scheduled: {
      label: "Cancel",
      question: `Cancel ${event.id}? It will not start.`,
      confirm: "Cancel event",
      method: "DELETE",
      path: `/api/events/${id}`,
      success: `${event.id} cancelled.`,
    },
  };
  const action = actions[event.status];
  if (!canWrite || !action) return [];
  const press = async () => {
    if (await confirmDialog(action.question, action.confirm)) done(await write(action));
  };
  return [h("button", { type: "button", class: "danger", "data-action": action.label.toLowerCase(), onclick: press }, action.label)];
}

async function write(action: Action): Promise<HTMLElement> {
  try {
    const answer = await call(action.method, action.path);
    return answer.behind
      ? notice("warn", `${action.success} (accepted; the read model has not caught up yet, so this page may lag a few seconds)`)
      : notice("ok", action.success);
  } catch (err) {
    return notice("error", err instanceof ApiError ? err.message : String(err));
  }
}
