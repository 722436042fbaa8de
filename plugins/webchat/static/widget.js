/* csgw site chat widget: one <script data-site="ACCOUNT"> tag, no dependencies, no third-party requests. */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector('script[src*="/widget/widget.js"]');
  if (!script) return;
  const site = script.dataset.site || "default";
  window.csgwWidgets = window.csgwWidgets || {};
  if (window.csgwWidgets[site]) return;

  const TEXTS = {
    "zh-Hans": {
      title: "在线客服", open: "联系客服", close: "关闭", placeholder: "输入消息，Enter 发送",
      send: "发送", connecting: "正在连接…", reconnecting: "网络已断开，正在重连…",
      typing: "客服正在输入…", joined: "{name} 已加入会话", agent: "客服", bot: "智能助手",
      rate: "请为本次服务打分", thanks: "感谢您的评价！", star: "{n} 分", unread: "{n} 条未读消息",
      sending: "发送中", rate_limited: "发送太快了，请稍后再试", image: "图片",
      comment: "还有什么想对我们说的？（选填）", submitComment: "提交", commentThanks: "已收到您的留言，谢谢！",
      leaveTitle: "给我们留言", leaveName: "您的称呼（选填）", leaveContact: "手机号或微信号",
      leaveText: "留言内容", leaveSend: "提交留言", leaveThanks: "留言已收到，客服上班后会第一时间联系您。",
      leaveMissing: "请填写联系方式和留言内容", leaveBadContact: "请填写正确的手机号或微信号",
      leaveBadName: "称呼请只写文字，不超过 64 个字", leaveBadText: "留言内容过长或含有无法识别的字符",
    },
    "zh-Hant": {
      title: "線上客服", open: "聯絡客服", close: "關閉", placeholder: "輸入訊息，Enter 傳送",
      send: "傳送", connecting: "正在連線…", reconnecting: "網路已中斷，正在重新連線…",
      typing: "客服正在輸入…", joined: "{name} 已加入對話", agent: "客服", bot: "智能助手",
      rate: "請為本次服務評分", thanks: "感謝您的評價！", star: "{n} 分", unread: "{n} 則未讀訊息",
      sending: "傳送中", rate_limited: "傳送太快了，請稍後再試", image: "圖片",
      comment: "還有什麼想對我們說的？（選填）", submitComment: "送出", commentThanks: "已收到您的留言，謝謝！",
      leaveTitle: "給我們留言", leaveName: "您的稱呼（選填）", leaveContact: "手機號碼或微信號",
      leaveText: "留言內容", leaveSend: "送出留言", leaveThanks: "留言已收到，客服上班後會第一時間聯絡您。",
      leaveMissing: "請填寫聯絡方式和留言內容", leaveBadContact: "請填寫正確的手機號碼或微信號",
      leaveBadName: "稱呼請只寫文字，不超過 64 個字", leaveBadText: "留言內容過長或含有無法識別的字元",
    },
    en: {
      title: "Chat with us", open: "Chat with us", close: "Close", placeholder: "Type a message, Enter to send",
      send: "Send", connecting: "Connecting…", reconnecting: "Connection lost, reconnecting…",
      typing: "Agent is typing…", joined: "{name} joined the chat", agent: "Agent", bot: "Assistant",
      rate: "How was our service?", thanks: "Thank you for your feedback!", star: "{n} of 5",
      unread: "{n} unread", sending: "Sending", rate_limited: "Too many messages, please slow down",
      image: "Image", comment: "Anything to add? (optional)", submitComment: "Send",
      commentThanks: "Thanks for your comment!",
      leaveTitle: "Leave us a message", leaveName: "Your name (optional)", leaveContact: "Phone or WeChat ID",
      leaveText: "Your message", leaveSend: "Send message", leaveThanks: "Message received; we will get back to you as soon as we are open.",
      leaveMissing: "Please give a phone number or WeChat ID and your message",
      leaveBadContact: "Please check the phone number or WeChat ID", leaveBadName: "Please give your name as plain text, at most 64 characters",
      leaveBadText: "The message is too long or holds characters we cannot read",
    },
  };

  const CSS = `
:host{all:initial;--c:#1677ff;font:14px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;color:#1f2329}
*{box-sizing:border-box}
.launcher{position:fixed;bottom:20px;right:20px;width:56px;height:56px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000;display:flex;align-items:center;justify-content:center}
.left .launcher,.left .panel{right:auto;left:20px}
.launcher svg{width:28px;height:28px;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#f53f3f;color:#fff;font-size:12px;line-height:20px;text-align:center}
.badge[hidden],[hidden]{display:none!important}
.panel{position:fixed;bottom:88px;right:20px;width:360px;max-width:calc(100vw - 24px);height:540px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.2);display:flex;flex-direction:column;overflow:hidden;z-index:2147483001}
header{display:flex;align-items:center;gap:10px;padding:12px 14px;background:var(--c);color:#fff}
header img{width:32px;height:32px;border-radius:50%;object-fit:cover;background:#fff}
.head{flex:1;min-width:0}
.title{font-weight:600;font-size:15px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sub{font-size:12px;opacity:.9}
.x{background:none;border:0;color:#fff;font-size:24px;line-height:1;cursor:pointer;padding:4px 8px}
.log{flex:1;overflow-y:auto;padding:12px;background:#f5f6f7;display:flex;flex-direction:column;gap:8px}
.msg{max-width:82%;display:flex;flex-direction:column;align-items:flex-start}
.msg.me{align-self:flex-end;align-items:flex-end}
.msg.system{align-self:center;max-width:92%;align-items:center}
.name{font-size:12px;color:#646a73;margin:0 4px 2px}
.bubble{padding:8px 12px;border-radius:12px;background:#fff;white-space:pre-wrap;word-break:break-word;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.me .bubble{background:var(--c);color:#fff}
.me .bubble a{color:#fff}
.system .bubble{background:none;box-shadow:none;color:#646a73;font-size:12px;text-align:center;padding:2px 8px}
.bubble img{display:block;max-width:100%;max-height:240px;border-radius:8px}
.meta{font-size:11px;color:#8f959e;margin:2px 4px 0}
.pending .bubble{opacity:.6}
.choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}
.choice{border:1px solid var(--c);color:var(--c);background:#fff;border-radius:16px;padding:4px 12px;font:inherit;cursor:pointer;text-align:left}
.choice:hover,.choice:focus-visible{background:var(--c);color:#fff}
.welcome{margin:0 0 4px}
.survey{align-self:stretch;background:#fff;border-radius:12px;padding:10px;text-align:center}
.stars{display:flex;justify-content:center;gap:4px;margin-top:6px}
.star{border:0;background:none;font-size:26px;color:#c9cdd4;cursor:pointer;padding:0 2px}
.star:hover,.star:focus-visible,.star.on{color:#ff9a2e}
.survey form{padding:8px 0 0;border-top:0;background:none}
.survey textarea{text-align:left}
.commented{margin-top:6px;font-size:12px;color:#646a73}
form.leave{align-self:stretch;flex-direction:column;gap:6px;border:0;border-radius:12px;padding:10px}
.leave-title{font-weight:600}
.field{border:1px solid #d0d3d6;border-radius:8px;padding:8px 10px;font:inherit;outline-color:var(--c)}
textarea.field{flex:none;min-height:64px}
.leave .send{padding:8px 14px}
.leave-error{color:#f53f3f;font-size:12px}
.status{padding:4px 12px;font-size:12px;color:#646a73;background:#f5f6f7;min-height:0}
.notice{color:#f53f3f}
form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e6eb;background:#fff}
textarea{flex:1;resize:none;border:1px solid #d0d3d6;border-radius:8px;padding:8px 10px;font:inherit;max-height:120px;min-height:38px;outline-color:var(--c)}
.send{border:0;border-radius:8px;background:var(--c);color:#fff;padding:0 14px;font:inherit;cursor:pointer}
.send:disabled{opacity:.5;cursor:default}
@media (max-width:480px){.panel{inset:0;width:auto;max-width:none;height:auto;max-height:none;border-radius:0}}
`;

  const store = {
    get(area, key) { try { return window[area].getItem(key); } catch { return null; } },
    set(area, key, value) { try { window[area].setItem(key, value); } catch { /* private mode */ } },
  };

  function visitorId() {
    if (script.dataset.visitor) return script.dataset.visitor;
    let id = store.get("localStorage", "csgw_visitor");
    if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
      const bytes = crypto.getRandomValues(new Uint8Array(12));
      id = "v-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      store.set("localStorage", "csgw_visitor", id);
    }
    return id;
  }

  const base = new URL(script.src, location.href);
  const visitor = visitorId();
  const seenKey = `csgw_seen_${site}`;
  const openKey = `csgw_open_${site}`;
  let lang = script.dataset.lang || "zh-Hans";
  let custom = {};
  let greeting = "";
  let welcome = [];
  let socket = null;
  let attempt = 0;
  let retryTimer = 0;
  let typingTimer = 0;
  let lastTypingSent = 0;
  let lastId = 0;
  let unread = 0;
  let seen = Number(store.get("localStorage", seenKey)) || 0;
  let clientSeq = 0;
  let leaving = null;  // the leave-a-message form being sent: {clientId, text}
  let left = false;
  const byId = new Map();
  const pending = new Map();

  const t = (key, values = {}) => {
    const template = custom[key] || (TEXTS[lang] || TEXTS["zh-Hans"])[key] || TEXTS["zh-Hans"][key] || key;
    return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
  };

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    node.append(...children.filter((c) => c != null));
    return node;
  }

  const safeUrl = (value) => {
    if (!value) return null;
    try {
      const url = new URL(value, base);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch { return null; }
  };

  /* Text with http(s) links made clickable; never innerHTML. */
  function richText(text) {
    const out = document.createDocumentFragment();
    let rest = String(text || "");
    const pattern = /https?:\/\/[^\s<>"'，。）)]+/;
    let match;
    while ((match = pattern.exec(rest))) {
      out.append(rest.slice(0, match.index));
      out.append(el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]));
      rest = rest.slice(match.index + match[0].length);
    }
    out.append(rest);
    return out;
  }

  const host = el("div", { id: `csgw-widget-${site}`, "data-csgw-site": site });
  const root = host.attachShadow({ mode: "open" });
  const badge = el("span", { class: "badge", hidden: "" });
  const launcher = el("button", { class: "launcher", type: "button", onclick: () => toggle() }, badge);
  launcher.insertAdjacentHTML("afterbegin",
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/></svg>');
  const logo = el("img", { alt: "", hidden: "" });
  const title = el("div", { class: "title" });
  const sub = el("div", { class: "sub" });
  const closeButton = el("button", { class: "x", type: "button", onclick: () => toggle(false) }, "×");
  const log = el("div", { class: "log", role: "log", "aria-live": "polite" });
  const status = el("div", { class: "status", role: "status" });
  const input = el("textarea", { rows: "1", maxlength: "4000" });
  const sendButton = el("button", { class: "send", type: "submit" });
  const form = el("form", { onsubmit: (e) => { e.preventDefault(); submit(); } }, input, sendButton);
  const panel = el("div", { class: "panel", role: "dialog", hidden: "" },
    el("header", {}, logo, el("div", { class: "head" }, title, sub), closeButton), log, status, form);
  const frame = el("div", { class: "frame" }, panel, launcher);
  root.append(el("style", {}, CSS), frame);

  function applyTexts() {
    title.textContent = title.dataset.custom || t("title");
    launcher.setAttribute("aria-label", t("open"));
    panel.setAttribute("aria-label", title.textContent);
    closeButton.setAttribute("aria-label", t("close"));
    input.placeholder = t("placeholder");
    sendButton.textContent = t("send");
    badge.setAttribute("aria-label", t("unread", { n: unread }));
  }

  function applyConfig(config = {}) {
    if (!script.dataset.lang && TEXTS[config.language]) lang = config.language;
    custom = config.texts && typeof config.texts === "object" ? config.texts : {};
    if (config.title) title.dataset.custom = config.title;
    if (/^#[0-9a-fA-F]{3,8}$/.test(config.color || "")) host.style.setProperty("--c", config.color);
    const logoUrl = config.logo && safeUrl(config.logo);
    if (logoUrl) { logo.src = logoUrl; logo.hidden = false; }
    frame.classList.toggle("left", config.position === "left");
    greeting = config.greeting || "";
    welcome = Array.isArray(config.welcome)
      ? config.welcome.filter((q) => typeof q === "string" && q.trim()).slice(0, 8) : [];
    applyTexts();
    showGreeting();
    showWelcome();
  }

  function showGreeting() {
    let node = log.querySelector(".greeting");
    if (!greeting) { node?.remove(); return; }
    if (!node) {
      node = el("div", { class: "msg bot greeting" }, el("div", { class: "bubble" }));
      log.prepend(node);
    }
    node.firstChild.replaceChildren(richText(greeting));
  }

  /* Suggested questions under the greeting until the visitor asks something; a click asks it. */
  function showWelcome() {
    let node = log.querySelector(".welcome");
    if (!welcome.length || log.querySelector(".msg.me")) { node?.remove(); return; }
    if (!node) {
      node = el("div", { class: "choices welcome" });
      const greetingNode = log.querySelector(".greeting");
      if (greetingNode) greetingNode.after(node); else log.prepend(node);
    }
    node.replaceChildren(...welcome.map((question) =>
      el("button", { class: "choice", type: "button", onclick: () => send(question) }, question)));
  }

  const clock = (ts) => {
    const date = ts ? new Date(ts) : new Date();
    return isNaN(date) ? "" : date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  };

  function bubbleFor(message) {
    const from = message.from || "customer";
    const mine = from === "customer";
    const node = el("div", { class: `msg ${mine ? "me" : from}` });
    if (from === "agent" || from === "bot") {
      node.append(el("div", { class: "name" }, from === "agent" ? message.agent_name || t("agent") : t("bot")));
    }
    const bubble = el("div", { class: "bubble" });
    const image = safeUrl(message.image || (message.kind === "image" ? message.url : "") || "");
    if (image) bubble.append(el("img", { src: image, alt: message.text || t("image"), loading: "lazy" }));
    else bubble.append(richText(message.text));
    node.append(bubble);
    if (Array.isArray(message.choices) && message.choices.length) {
      node.append(el("div", { class: "choices" }, ...message.choices.map((choice) =>
        el("button", { class: "choice", type: "button", onclick: () => send(String(choice.key)) },
          choice.label ? `${choice.key}. ${choice.label}` : String(choice.key)))));
    }
    if (from !== "system") node.append(el("div", { class: "meta" }, clock(message.ts)));
    return node;
  }

  /* Messages are kept in id order; pending (unacknowledged) ones stay at the end. */
  function place(node, id) {
    node.dataset.id = id;
    for (const other of log.children) {
      const otherId = Number(other.dataset.id);
      if ((otherId && otherId > id) || other.classList.contains("pending")) {
        log.insertBefore(node, other);
        return;
      }
    }
    log.append(node);
  }

  function receive(message) {
    const id = Number(message.id);
    if (!id || byId.has(id)) return;
    const node = bubbleFor(message);
    byId.set(id, node);
    place(node, id);
    lastId = Math.max(lastId, id);
    if (message.from === "customer") log.querySelector(".welcome")?.remove();
    if (message.from === "agent") { sub.textContent = message.agent_name || sub.textContent; hideTyping(); }
    if (message.from !== "customer" && id > seen) {
      if (panel.hidden) { unread += 1; updateBadge(); } else markSeen();
    }
    scrollDown();
  }

  function markSeen() {
    seen = Math.max(seen, lastId);
    store.set("localStorage", seenKey, String(seen));
    unread = 0;
    updateBadge();
  }

  function updateBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.setAttribute("aria-label", t("unread", { n: unread }));
  }

  const scrollDown = () => { log.scrollTop = log.scrollHeight; };

  function send(text) {
    text = text.trim();
    if (!text) return;
    clientSeq += 1;
    const clientId = `${Date.now().toString(36)}-${clientSeq}`;
    log.querySelector(".welcome")?.remove();
    const node = bubbleFor({ from: "customer", text });
    node.classList.add("pending");
    node.querySelector(".meta").textContent = t("sending");
    log.append(node);
    pending.set(clientId, { text, node });
    transmit({ type: "message", client_id: clientId, text });
    scrollDown();
  }

  function submit() {
    send(input.value);
    input.value = "";
    input.style.height = "";
    input.focus();
  }

  function acknowledge(frame) {
    const entry = pending.get(frame.client_id);
    if (!entry) return;
    pending.delete(frame.client_id);
    const id = Number(frame.id);
    if (byId.has(id)) { entry.node.remove(); return; }
    entry.node.classList.remove("pending");
    entry.node.querySelector(".meta").textContent = clock();
    entry.node.remove();
    byId.set(id, entry.node);
    place(entry.node, id);
    lastId = Math.max(lastId, id);
  }

  function showTyping() {
    status.className = "status";
    status.textContent = t("typing");
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 6000);
  }

  function hideTyping() {
    if (status.textContent === t("typing")) status.textContent = "";
  }

  function notice(text) {
    status.className = "status notice";
    status.textContent = text;
  }

  function survey() {
    if (log.querySelector(".survey:not(.done)")) return;
    const box = el("div", { class: "survey" }, el("div", {}, t("rate")));
    const stars = el("div", { class: "stars" });
    for (let score = 1; score <= 5; score += 1) {
      stars.append(el("button", {
        class: "star", type: "button", "aria-label": t("star", { n: score }),
        onclick: () => {
          stars.querySelectorAll("button").forEach((b, i) => { b.disabled = true; b.classList.toggle("on", i < score); });
          box.classList.add("done");
          transmit({ type: "survey", score });
          box.append(commentForm(score));
          scrollDown();
        },
      }, "★"));
    }
    box.append(stars);
    log.append(box);
    scrollDown();
  }

  /* After the stars: an optional comment, sent with the score again (the server keeps the latest). */
  function commentForm(score) {
    const area = el("textarea", { class: "comment", rows: "2", maxlength: "500", placeholder: t("comment"), "aria-label": t("comment") });
    const submit = el("button", { class: "send", type: "submit" }, t("submitComment"));
    submit.disabled = true;
    const form = el("form", {
      onsubmit: (event) => {
        event.preventDefault();
        const comment = area.value.trim();
        if (!comment) return;
        transmit({ type: "survey", score, comment });
        form.replaceWith(el("div", { class: "commented" }, t("commentThanks")));
      },
    }, area, submit);
    area.addEventListener("input", () => { submit.disabled = !area.value.trim(); });
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    return form;
  }

  /* After hours the server says the desk is closed: a form for name, phone or WeChat ID and message. */
  function leaveForm() {
    if (left || log.querySelector(".leave")) return;
    const field = (tag, name, label, extra = {}) =>
      el(tag, { class: "field", name, placeholder: label, "aria-label": label, ...extra });
    const name = field("input", "name", t("leaveName"), { maxlength: "64", autocomplete: "name" });
    const contact = field("input", "contact", t("leaveContact"), { maxlength: "64", autocomplete: "tel" });
    const text = field("textarea", "text", t("leaveText"), { rows: "3", maxlength: "4000" });
    const error = el("div", { class: "leave-error", role: "alert" });
    const button = el("button", { class: "send", type: "submit" }, t("leaveSend"));
    const box = el("form", {
      class: "leave",
      onsubmit: (event) => {
        event.preventDefault();
        const values = { name: name.value.trim(), contact: contact.value.trim(), text: text.value.trim() };
        if (!values.contact || !values.text) { error.textContent = t("leaveMissing"); return; }
        clientSeq += 1;
        leaving = { clientId: `${Date.now().toString(36)}-${clientSeq}`, text: values.text };
        button.disabled = true;
        error.textContent = "";
        transmit({ type: "leave_message", client_id: leaving.clientId, ...values });
      },
    }, el("div", { class: "leave-title" }, t("leaveTitle")), name, contact, text, error, button);
    box.addEventListener("input", () => { error.textContent = ""; });
    log.append(box);
    scrollDown();
  }

  const LEAVE_ERRORS = { bad_contact: "leaveBadContact", empty_contact: "leaveMissing", empty_text: "leaveMissing",
    bad_name: "leaveBadName", name_too_long: "leaveBadName", text_too_long: "leaveBadText", bad_text: "leaveBadText",
    rate_limited: "rate_limited" };

  function leaveRefused(frame) {
    const box = log.querySelector(".leave");
    leaving = null;
    if (!box) return;
    box.querySelector(".leave-error").textContent = LEAVE_ERRORS[frame.code] ? t(LEAVE_ERRORS[frame.code]) : frame.message || frame.code;
    box.querySelector("button").disabled = false;
  }

  function messageLeft(frame) {
    if (!leaving || frame.client_id !== leaving.clientId) return;
    left = true;
    leaving = null;
    log.querySelector(".leave")?.replaceWith(el("div", { class: "msg system left" }, el("div", { class: "bubble" }, t("leaveThanks"))));
    scrollDown();
  }

  function thanks() {
    const box = log.querySelector(".survey.done:not(.thanked)") || log.querySelector(".survey");
    if (box) { box.classList.add("thanked"); box.firstChild.textContent = t("thanks"); }
  }

  function transmit(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function socketUrl() {
    const url = new URL("/widget/ws", base);
    url.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("site", site);
    url.searchParams.set("visitor", visitor);
    if (script.dataset.sig) url.searchParams.set("sig", script.dataset.sig);
    return url.href;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (socket && socket.readyState <= WebSocket.OPEN) return;
    const ws = new WebSocket(socketUrl());
    socket = ws;
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      handle(frame);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      status.className = "status";
      status.textContent = t("reconnecting");
      // Back off up to 30 s with jitter so a restarted gateway is not hit by every tab at once.
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt = Math.min(attempt + 1, 6);
      retryTimer = setTimeout(connect, delay);
    };
  }

  function handle(frame) {
    switch (frame.type) {
      case "hello":
        attempt = 0;
        if (status.textContent === t("reconnecting") || status.textContent === t("connecting")) status.textContent = "";
        applyConfig(frame.config);
        // Re-send what was never acknowledged first (the server de-duplicates by client_id), then catch up.
        for (const [clientId, entry] of pending) transmit({ type: "message", client_id: clientId, text: entry.text });
        transmit({ type: "resume", after: lastId });
        break;
      case "ack":
        if (leaving && frame.client_id === leaving.clientId) receive({ id: frame.id, from: "customer", text: leaving.text });
        else acknowledge(frame);
        break;
      case "message": receive(frame); break;
      case "typing":
        if (frame.from === "customer") break;
        if (frame.on === false) hideTyping(); else showTyping();
        break;
      case "agent_joined":
        sub.textContent = frame.name || "";
        log.append(el("div", { class: "msg system joined" }, el("div", { class: "bubble" }, t("joined", { name: frame.name || t("agent") }))));
        scrollDown();
        break;
      case "survey": survey(); break;
      case "survey_thanks": if (!frame.comment) thanks(); break;
      case "desk_closed": leaveForm(); break;
      case "message_left": messageLeft(frame); break;
      case "error":
        if (leaving) leaveRefused(frame);
        else notice(frame.code === "rate_limited" ? t("rate_limited") : frame.message || frame.code);
        break;
      default: break;
    }
  }

  function toggle(open = panel.hidden) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    store.set("sessionStorage", openKey, open ? "1" : "");
    if (open) { markSeen(); scrollDown(); input.focus(); } else launcher.focus();
  }

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    input.style.height = "";
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
    if (Date.now() - lastTypingSent > 3000 && input.value.trim()) {
      lastTypingSent = Date.now();
      transmit({ type: "typing" });
    }
  });
  panel.addEventListener("keydown", (event) => { if (event.key === "Escape") toggle(false); });
  window.addEventListener("online", () => { attempt = 0; connect(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) connect(); });

  applyTexts();
  status.textContent = t("connecting");
  (document.body || document.documentElement).append(host);
  if (store.get("sessionStorage", openKey) === "1" || script.dataset.open === "true") toggle(true);
  connect();
  window.csgwWidgets[site] = { open: () => toggle(true), close: () => toggle(false), send, visitor };
})();
