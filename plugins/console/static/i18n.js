// Console texts in simplified Chinese (default), traditional Chinese and English.
const TEXTS = {
  "zh-Hans": {
    app: "csgw 客服台", token: "API 令牌", signIn: "登录", signOut: "退出",
    tokenHint: "打开主管发给您的登录链接即可登录（主管在“客服团队”里生成，或运行 csgw agents login-link 名字）；也可在此粘贴 API 令牌。登录只保存在本标签页。",
    badToken: "令牌无效", badCode: "登录链接无效，请向主管要一个新的", codeUsed: "这个登录链接已经用过了（每个只能用一次），请向主管要一个新的",
    codeExpired: "登录链接已过期，请向主管要一个新的", rateLimited: "登录尝试太频繁，请一分钟后再试",
    agentsManage: "客服团队", loginLink: "登录链接", loginLinkFor: "{name} 的登录链接", copy: "复制", copied: "已复制",
    loginLinkHint: "仅可使用一次，{time} 前有效。发给对方，打开即登录，不影响其 API 令牌。",
    role_supervisor: "主管", role_agent: "客服", visitor: "访客",
    online: "在线", away: "离开", offline: "离线", mine: "我的", queue: "排队", all: "全部进行中",
    empty: "暂无会话", pick: "从左侧选择一个会话", take: "接入", transfer: "转接", close: "结束",
    confirmClose: "结束这个会话？", reply: "输入回复，Enter 发送，Shift+Enter 换行", send: "发送",
    canned: "常用语", cannedSearch: "搜索常用语：快捷短语、标题或内容…", noCanned: "没有匹配的常用语",
    cannedKeys: "↑↓ 选择 · Enter 填入回复框（不会发送）· Esc 关闭", cannedMissing: "请补全：{names}",
    var_customer_name: "客户称呼", var_agent_name: "客服名", var_order_no: "订单号",
    cannedManage: "管理常用语", cannedHint: "在回复框开头输入 / 或按 Ctrl+K 使用；变量在填入时换成该会话的值，缺少的留空。",
    cannedNew: "新建", cannedTitle: "标题", cannedShortcut: "快捷短语", cannedGroup: "分组（留空为共享）",
    cannedText: "内容", cannedVars: "插入变量：", shared: "共享", delete: "删除", closeDialog: "关闭",
    confirmDelete: "删除常用语“{title}”？", replyMode: "回复", noteMode: "内部备注", noteLabel: "内部备注",
    notePlaceholder: "内部备注，仅客服可见，不会发给客户；Enter 添加", addNote: "添加备注",
    addTag: "+ 标签", removeTag: "移除标签 {tag}", autoTag: "自动添加", tagFilter: "按标签筛选，Enter 确认",
    filteredBy: "标签“{tag}”：{n} 个会话", clearFilter: "清除筛选",
    waiting: "等待 {time}", priority: "优先级 {n}", closed: "会话已结束，无法回复",
    notYours: "该会话由其他客服处理", profile: "客户资料", back: "返回", name: "姓名", tags: "标签",
    tagsHint: "用逗号分隔", vip: "VIP", state: "状态", notes: "备注", save: "保存", saved: "已保存",
    orders: "订单", identities: "渠道身份", history: "历史会话", conversation: "会话 #{id}",
    bot: "机器人", system: "系统", customer: "客户", agent: "客服", failed: "发送失败",
    why: "依据", whyMeaning: "语义+词语", whyWords: "仅词语", decision_confident: "确定作答",
    decision_close_call: "两条相近，已反问", decision_unsure: "不确定，已反问", decision_topic: "只提到话题，已反问",
    decision_no_match: "无匹配", decision_no_candidates: "无候选",
    rating: "客户评价 {score}/5", ratingComment: "留言",
    draft: "AI 草稿", drafting: "生成中…", draftHint: "让大模型按知识库起草回复，填入回复框，修改后再发送（不会自动发送）",
    draftReady: "草稿已填入回复框，请检查修改后发送", draftFrom: "草稿已填入（依据知识库：{entries}），请检查修改后发送",
    summary: "摘要", summarising: "摘要中…", summaryHint: "让大模型概括这个会话", summaryTitle: "AI 摘要",
    newAssigned: "新会话分配给您：{name}", live: "实时", reconnecting: "重连中…",
    transferTo: "转接给", toAgent: "客服", toGroup: "分组", note: "备注（可选）", cancel: "取消",
    confirm: "确定", shortcuts: "快捷键", typing: "客户正在输入…", earlier: "更早的会话",
    blocked: "暂时无法回复：{reason}", states: "bot:机器人,queued:排队中,assigned:已接入,closed:已结束",
    presale: "售前", ordered: "已下单", aftersale: "售后", lang: "语言", load: "{load}/{max} 个会话",
    unassigned: "未分配", nothing: "无",
    incidentTitle: "突发事件：{title}", incidentCount: "{n} 位客户", incidentSince: "{time} 起",
    incidentKind_entry: "知识库条目 {key}", incidentKind_unanswered: "机器人答不上的问题", incidentKind_lane: "升级类别 {key}",
    broadcast: "广播回复", broadcastPlaceholder: "广播回复，之后再问的客户会直接收到，例如：支付渠道故障，已在修复…",
    notifyWaiting: "同时通知已在等待的客户（每人一次）", publishBroadcast: "发布广播", closeIncident: "关闭事件",
    broadcastLive: "正在广播：{text}", broadcastSent: "广播已发布，通知了 {n} 位等待中的客户",
    confirmCloseIncident: "关闭这个突发事件？广播回复将停止。",
    reports: "报表", reportsBack: "返回会话", reportsRefresh: "刷新", reportPeriod: "时间范围",
    period_today: "今天", period_week: "近 7 天", period_month: "近 30 天", reportBy: "分类方式",
    by_category: "按知识库分类", by_tag: "按标签", by_agent: "按客服", by_channel: "按渠道", by_group: "按分组",
    col_category: "分类", col_tag: "标签", col_agent: "客服", col_channel: "渠道", col_group: "分组",
    reportConversations: "会话量", reportHandedOver: "转人工", reportContainment: "机器人解决率",
    reportFirstResponse: "首次响应", reportHandling: "处理时长", reportSatisfaction: "满意度",
    reportResolution: "解决率", reportReopen: "重复咨询率", reportSla: "超时", reportTrend: "每日趋势",
    reportDay: "日期", reportTotal: "总览", reportUnanswered: "机器人未解决的问题", reportAvgP90: "平均 · P90 {p90}",
    reportRatings: "{avg}（{n} 条）", reportAsked: "{n} 次", reportUncategorised: "未分类", reportUntagged: "无标签",
    reportNone: "无", noData: "暂无数据", reportTimes: "时长为 分:秒，店铺时间（{zone}）",
    help: "j / k 下一个 / 上一个会话\n1 2 3 切换列表\nr 或 / 回复\nn 内部备注\nt 接入\nf 转接\nx 结束\ns 切换在线/离开\n回复框开头输入 / 或 Ctrl+K 常用语\nEsc 返回 / 取消\n? 显示帮助",
  },
  "zh-Hant": {
    app: "csgw 客服台", token: "API 權杖", signIn: "登入", signOut: "登出",
    tokenHint: "開啟主管傳給您的登入連結即可登入（主管在「客服團隊」裡產生，或執行 csgw agents login-link 名字）；也可在此貼上 API 權杖。登入只保存在此分頁。",
    badToken: "權杖無效", badCode: "登入連結無效，請向主管要一個新的", codeUsed: "這個登入連結已經用過了（每個只能用一次），請向主管要一個新的",
    codeExpired: "登入連結已過期，請向主管要一個新的", rateLimited: "登入嘗試太頻繁，請一分鐘後再試",
    agentsManage: "客服團隊", loginLink: "登入連結", loginLinkFor: "{name} 的登入連結", copy: "複製", copied: "已複製",
    loginLinkHint: "僅可使用一次，{time} 前有效。傳給對方，開啟即登入，不影響其 API 權杖。",
    role_supervisor: "主管", role_agent: "客服", visitor: "訪客",
    online: "在線", away: "離開", offline: "離線", mine: "我的", queue: "排隊", all: "全部進行中",
    empty: "暫無對話", pick: "從左側選擇一個對話", take: "接入", transfer: "轉接", close: "結束",
    confirmClose: "結束這個對話？", reply: "輸入回覆，Enter 傳送，Shift+Enter 換行", send: "傳送",
    canned: "常用語", cannedSearch: "搜尋常用語：快捷短語、標題或內容…", noCanned: "沒有符合的常用語",
    cannedKeys: "↑↓ 選擇 · Enter 填入回覆框（不會傳送）· Esc 關閉", cannedMissing: "請補全：{names}",
    var_customer_name: "客戶稱呼", var_agent_name: "客服名", var_order_no: "訂單號",
    cannedManage: "管理常用語", cannedHint: "在回覆框開頭輸入 / 或按 Ctrl+K 使用；變數在填入時換成該對話的值，缺少的留空。",
    cannedNew: "新增", cannedTitle: "標題", cannedShortcut: "快捷短語", cannedGroup: "分組（留空為共用）",
    cannedText: "內容", cannedVars: "插入變數：", shared: "共用", delete: "刪除", closeDialog: "關閉",
    confirmDelete: "刪除常用語「{title}」？", replyMode: "回覆", noteMode: "內部備註", noteLabel: "內部備註",
    notePlaceholder: "內部備註，僅客服可見，不會傳給客戶；Enter 新增", addNote: "新增備註",
    addTag: "+ 標籤", removeTag: "移除標籤 {tag}", autoTag: "自動新增", tagFilter: "按標籤篩選，Enter 確認",
    filteredBy: "標籤「{tag}」：{n} 個對話", clearFilter: "清除篩選",
    waiting: "等待 {time}", priority: "優先級 {n}", closed: "對話已結束，無法回覆",
    notYours: "該對話由其他客服處理", profile: "客戶資料", back: "返回", name: "姓名", tags: "標籤",
    tagsHint: "用逗號分隔", vip: "VIP", state: "狀態", notes: "備註", save: "儲存", saved: "已儲存",
    orders: "訂單", identities: "渠道身分", history: "歷史對話", conversation: "對話 #{id}",
    bot: "機器人", system: "系統", customer: "客戶", agent: "客服", failed: "傳送失敗",
    why: "依據", whyMeaning: "語義+詞語", whyWords: "僅詞語", decision_confident: "確定作答",
    decision_close_call: "兩條相近，已反問", decision_unsure: "不確定，已反問", decision_topic: "只提到話題，已反問",
    decision_no_match: "無匹配", decision_no_candidates: "無候選",
    rating: "客戶評價 {score}/5", ratingComment: "留言",
    draft: "AI 草稿", drafting: "生成中…", draftHint: "讓大模型按知識庫起草回覆，填入回覆框，修改後再發送（不會自動發送）",
    draftReady: "草稿已填入回覆框，請檢查修改後發送", draftFrom: "草稿已填入（依據知識庫：{entries}），請檢查修改後發送",
    summary: "摘要", summarising: "摘要中…", summaryHint: "讓大模型概括這個對話", summaryTitle: "AI 摘要",
    newAssigned: "新對話分配給您：{name}", live: "即時", reconnecting: "重新連線中…",
    transferTo: "轉接給", toAgent: "客服", toGroup: "分組", note: "備註（可選）", cancel: "取消",
    confirm: "確定", shortcuts: "快速鍵", typing: "客戶正在輸入…", earlier: "更早的對話",
    blocked: "暫時無法回覆：{reason}", states: "bot:機器人,queued:排隊中,assigned:已接入,closed:已結束",
    presale: "售前", ordered: "已下單", aftersale: "售後", lang: "語言", load: "{load}/{max} 個對話",
    unassigned: "未分配", nothing: "無",
    incidentTitle: "突發事件：{title}", incidentCount: "{n} 位客戶", incidentSince: "{time} 起",
    incidentKind_entry: "知識庫條目 {key}", incidentKind_unanswered: "機器人答不上的問題", incidentKind_lane: "升級類別 {key}",
    broadcast: "廣播回覆", broadcastPlaceholder: "廣播回覆，之後再問的客戶會直接收到，例如：支付渠道故障，正在修復…",
    notifyWaiting: "同時通知已在等待的客戶（每人一次）", publishBroadcast: "發布廣播", closeIncident: "關閉事件",
    broadcastLive: "正在廣播：{text}", broadcastSent: "廣播已發布，通知了 {n} 位等待中的客戶",
    confirmCloseIncident: "關閉這個突發事件？廣播回覆將停止。",
    reports: "報表", reportsBack: "返回對話", reportsRefresh: "重新整理", reportPeriod: "時間範圍",
    period_today: "今天", period_week: "近 7 天", period_month: "近 30 天", reportBy: "分類方式",
    by_category: "按知識庫分類", by_tag: "按標籤", by_agent: "按客服", by_channel: "按渠道", by_group: "按分組",
    col_category: "分類", col_tag: "標籤", col_agent: "客服", col_channel: "渠道", col_group: "分組",
    reportConversations: "對話量", reportHandedOver: "轉人工", reportContainment: "機器人解決率",
    reportFirstResponse: "首次回應", reportHandling: "處理時長", reportSatisfaction: "滿意度",
    reportResolution: "解決率", reportReopen: "重複諮詢率", reportSla: "逾時", reportTrend: "每日趨勢",
    reportDay: "日期", reportTotal: "總覽", reportUnanswered: "機器人未解決的問題", reportAvgP90: "平均 · P90 {p90}",
    reportRatings: "{avg}（{n} 則）", reportAsked: "{n} 次", reportUncategorised: "未分類", reportUntagged: "無標籤",
    reportNone: "無", noData: "暫無資料", reportTimes: "時長為 分:秒，店鋪時間（{zone}）",
    help: "j / k 下一個 / 上一個對話\n1 2 3 切換列表\nr 或 / 回覆\nn 內部備註\nt 接入\nf 轉接\nx 結束\ns 切換在線/離開\n回覆框開頭輸入 / 或 Ctrl+K 常用語\nEsc 返回 / 取消\n? 顯示說明",
  },
  en: {
    app: "csgw console", token: "API token", signIn: "Sign in", signOut: "Sign out",
    tokenHint: "Open the login link your supervisor sent you (made under Agents, or with csgw agents login-link NAME), or paste an API token here. The sign-in is kept in this tab only.",
    badToken: "The token is not valid", badCode: "The login link is not valid: ask your supervisor for a new one",
    codeUsed: "This login link was used already (each works once): ask your supervisor for a new one",
    codeExpired: "The login link has expired: ask your supervisor for a new one",
    rateLimited: "Too many sign-in attempts: try again in a minute", agentsManage: "Agents", loginLink: "Login link",
    loginLinkFor: "Login link for {name}", copy: "Copy", copied: "Copied",
    loginLinkHint: "Works once, until {time}. Send it to them: opening it signs them in; their API token stays as it is.",
    role_supervisor: "supervisor", role_agent: "agent", visitor: "Visitor",
    online: "Online", away: "Away", offline: "Offline", mine: "Mine", queue: "Queue", all: "All open",
    empty: "No conversations", pick: "Pick a conversation", take: "Take", transfer: "Transfer", close: "Close",
    confirmClose: "Close this conversation?", reply: "Reply — Enter to send, Shift+Enter for a new line",
    send: "Send", canned: "Canned", cannedSearch: "Search canned replies: shortcut, title or text…",
    noCanned: "No matching canned reply", cannedKeys: "↑↓ choose · Enter puts it in the reply box (not sent) · Esc closes",
    cannedMissing: "Fill in: {names}", var_customer_name: "customer's name", var_agent_name: "agent's name",
    var_order_no: "order number", cannedManage: "Canned replies",
    cannedHint: "Type / at the start of the reply box or press Ctrl+K; variables take the conversation's values, missing ones are left empty.",
    cannedNew: "New", cannedTitle: "Title", cannedShortcut: "Shortcut", cannedGroup: "Group (empty: shared)",
    cannedText: "Text", cannedVars: "Insert variable:", shared: "shared", delete: "Delete", closeDialog: "Close",
    confirmDelete: "Delete the canned reply “{title}”?", replyMode: "Reply", noteMode: "Internal note",
    noteLabel: "Internal note", notePlaceholder: "Internal note, for agents only, never sent to the customer; Enter to add",
    addNote: "Add note", addTag: "+ tag", removeTag: "Remove tag {tag}", autoTag: "added automatically",
    tagFilter: "Filter by tag, Enter to apply", filteredBy: "Tag “{tag}”: {n} conversations", clearFilter: "Clear filter",
    waiting: "waiting {time}", priority: "priority {n}", closed: "The conversation is closed",
    notYours: "Another agent has this conversation", profile: "Customer", back: "Back", name: "Name",
    tags: "Tags", tagsHint: "comma separated", vip: "VIP", state: "Stage", notes: "Notes", save: "Save",
    saved: "Saved", orders: "Orders", identities: "Identities", history: "Conversations",
    conversation: "Conversation #{id}", bot: "Bot", system: "System", customer: "Customer", agent: "Agent",
    why: "Why", whyMeaning: "meaning and words", whyWords: "words only", decision_confident: "confident",
    decision_close_call: "two close entries, asked back", decision_unsure: "unsure, asked back",
    decision_topic: "names a topic, asked back", decision_no_match: "no match", decision_no_candidates: "no candidates",
    rating: "Customer rating {score}/5", ratingComment: "Comment",
    draft: "AI draft", drafting: "Drafting…", draftHint: "The language model drafts a reply from the knowledge base into the box; edit it, then send (nothing is sent by itself)",
    draftReady: "Draft in the reply box: check and edit it, then send", draftFrom: "Draft in the reply box (from KB {entries}): check and edit it, then send",
    summary: "Summary", summarising: "Summing up…", summaryHint: "The language model sums up this conversation", summaryTitle: "AI summary",
    failed: "Not delivered", newAssigned: "New conversation for you: {name}", live: "Live",
    reconnecting: "Reconnecting…", transferTo: "Transfer to", toAgent: "Agent", toGroup: "Group",
    note: "Note (optional)", cancel: "Cancel", confirm: "OK", shortcuts: "Shortcuts",
    typing: "Customer is typing…", earlier: "Earlier conversation", blocked: "Replies paused: {reason}",
    states: "bot:bot,queued:queued,assigned:assigned,closed:closed", presale: "Pre-sale",
    ordered: "Ordered", aftersale: "After-sale", lang: "Language", load: "{load}/{max} conversations",
    unassigned: "unassigned", nothing: "none",
    incidentTitle: "Incident: {title}", incidentCount: "{n} customers", incidentSince: "since {time}",
    incidentKind_entry: "KB entry {key}", incidentKind_unanswered: "questions the bot could not answer",
    incidentKind_lane: "escalation lane {key}", broadcast: "Broadcast answer",
    broadcastPlaceholder: "Broadcast answer every further asker gets, e.g. Payments are down, we are fixing it…",
    notifyWaiting: "Also tell the customers already waiting (once each)", publishBroadcast: "Publish broadcast",
    closeIncident: "Close incident", broadcastLive: "Broadcasting: {text}",
    broadcastSent: "Broadcast published; {n} waiting customers told",
    confirmCloseIncident: "Close this incident? Its broadcast stops.",
    reports: "Reports", reportsBack: "Back to conversations", reportsRefresh: "Refresh", reportPeriod: "Period",
    period_today: "Today", period_week: "7 days", period_month: "30 days", reportBy: "Break down",
    by_category: "by KB category", by_tag: "by tag", by_agent: "by agent", by_channel: "by channel", by_group: "by group",
    col_category: "Category", col_tag: "Tag", col_agent: "Agent", col_channel: "Channel", col_group: "Group",
    reportConversations: "Conversations", reportHandedOver: "Handed over", reportContainment: "Bot only",
    reportFirstResponse: "First response", reportHandling: "Handling", reportSatisfaction: "Satisfaction",
    reportResolution: "Resolved", reportReopen: "Reopened", reportSla: "SLA missed", reportTrend: "Per day",
    reportDay: "Day", reportTotal: "Overall", reportUnanswered: "Questions the bot left unanswered",
    reportAvgP90: "average · p90 {p90}", reportRatings: "{avg} ({n})", reportAsked: "{n}×",
    reportUncategorised: "(none)", reportUntagged: "(no tag)", reportNone: "(none)", noData: "No data yet",
    reportTimes: "Times as m:ss, shop time ({zone})",
    help: "j / k  next / previous conversation\n1 2 3  switch list\nr or /  reply\nn  internal note\nt  take\nf  transfer\nx  close\ns  toggle online/away\n/ at the start of the reply box, or Ctrl+K  canned replies\nEsc  back / cancel\n?  this help",
  },
};

export const LANGUAGES = { "zh-Hans": "简体中文", "zh-Hant": "繁體中文", en: "English" };
let language = localStorage.getItem("csgw_console_lang") || "zh-Hans";
if (!TEXTS[language]) language = "zh-Hans";

export const currentLanguage = () => language;

export function setLanguage(value) {
  if (!TEXTS[value]) return;
  language = value;
  localStorage.setItem("csgw_console_lang", value);
  document.documentElement.lang = value;
  translatePage();
}

export function t(key, values = {}) {
  const template = TEXTS[language][key] ?? TEXTS["zh-Hans"][key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function stateName(state) {
  const pairs = Object.fromEntries(t("states").split(",").map((pair) => pair.split(":")));
  return pairs[state] || state;
}

export function duration(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60000));
  const zh = language !== "en";
  if (minutes < 1) return zh ? "不到1分钟" : "<1 min";
  if (minutes < 60) return zh ? `${minutes}分钟` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return zh ? `${hours}小时${minutes % 60}分` : `${hours} h ${minutes % 60} min`;
  return zh ? `${Math.floor(hours / 24)}天` : `${Math.floor(hours / 24)} d`;
}

/* Times are shown in the shop's time zone (`[server] timezone`, from /me), not the browser's. */
let timeZone;
const formats = new Map();

export function setTimeZone(name) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    timeZone = name;
  } catch {
    timeZone = undefined; // a zone this browser does not know: its own
  }
  formats.clear();
}

function format(options) {
  const key = `${language}|${JSON.stringify(options)}`;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(language, { ...options, timeZone }));
  return formats.get(key);
}

const day = (date) => format({ year: "numeric", month: "numeric", day: "numeric" }).format(date);

export function clock(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const sameDay = day(date) === day(new Date());
  return sameDay
    ? format({ hour: "2-digit", minute: "2-digit" }).format(date)
    : format({ month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(date);
}

/* A day (YYYY-MM-DD) as the shop counts them: the one holding now, or `back` days before it. */
export function shopDay(back = 0) {
  const parts = new Intl.DateTimeFormat("en", { year: "numeric", month: "numeric", day: "numeric", timeZone })
    .formatToParts(new Date());
  const today = Object.fromEntries(parts.map((part) => [part.type, Number(part.value)]));
  return new Date(Date.UTC(today.year, today.month - 1, today.day - back)).toISOString().slice(0, 10);
}

/* A YYYY-MM-DD day, short, with its weekday. */
export const dayLabel = (iso) => new Intl.DateTimeFormat(language, { month: "numeric", day: "numeric", weekday: "short", timeZone: "UTC" })
  .format(new Date(`${iso}T00:00:00Z`));

/* The shop's time zone as /me gave it (the browser's when it did not know that one). */
export const shopZone = () => timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone;

/* Date and time in full, for tooltips. */
export const fullTime = (iso) => (iso ? format({ dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) : "");

/* Static markup carries data-i18n (text), data-i18n-placeholder, data-i18n-title. */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of root.querySelectorAll("[data-i18n-title]")) {
    node.title = t(node.dataset.i18nTitle);
    node.setAttribute("aria-label", node.title);
  }
}
