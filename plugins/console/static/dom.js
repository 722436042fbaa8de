// A tiny element builder: text is always set as text, never parsed as HTML.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  node.append(...children.flat().filter((child) => child != null && child !== false));
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function safeUrl(value) {
  if (!value) return null;
  try {
    const url = new URL(value, location.href);
    return ["http:", "https:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/* Plain text with http(s) links made clickable. */
export function linkify(text) {
  const parts = [];
  let rest = String(text ?? "");
  const pattern = /https?:\/\/[^\s<>"'，。）)]+/;
  let match;
  while ((match = pattern.exec(rest))) {
    parts.push(rest.slice(0, match.index));
    parts.push(h("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]));
    rest = rest.slice(match.index + match[0].length);
  }
  parts.push(rest);
  return parts;
}

let toastTimer = 0;
export function toast(text, kind = "info") {
  const box = $("#toast");
  box.textContent = text;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}
