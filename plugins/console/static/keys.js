// Keyboard shortcuts for the common actions; single keys only act outside text fields.
import { closeCanned } from "./canned.js";
import { close, closeView, take, transfer } from "./conversation.js";
import { $ } from "./dom.js";
import { neighbour } from "./inbox.js";
import { closeReports, reportsOpen } from "./reports.js";
import { state } from "./state.js";

export function installShortcuts({ open, switchTab, toggleStatus, note, help }) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (reportsOpen()) {
      // the desk is out of sight: its keys would act on what the agent cannot see
      if (event.key === "Escape" && !document.querySelector("dialog[open]")) closeReports();
      return;
    }
    const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
    if (event.key === "Escape") {
      if (document.querySelector("dialog[open]")) return;
      closeCanned();
      if (typing) event.target.blur();
      else closeView();
      return;
    }
    if (typing || document.querySelector("dialog[open]")) return;
    const actions = {
      j: () => { const id = neighbour(1); if (id) open(id); },
      k: () => { const id = neighbour(-1); if (id) open(id); },
      1: () => switchTab("mine"),
      2: () => switchTab("queue"),
      3: () => switchTab("all"),
      r: () => $("#reply")?.focus(),
      n: () => state.currentId && note(),
      "/": () => $("#reply")?.focus(),
      t: () => state.currentId && take(),
      f: () => state.currentId && transfer(),
      x: () => state.currentId && close(),
      s: toggleStatus,
      "?": help,
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });
}
