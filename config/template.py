"""The `csgw.toml` that `csgw init` writes: every section, with the defaults spelled out."""

from __future__ import annotations

TEMPLATE = """\
# csgw configuration. Any value may be ${{ENV_NAME}}; keep secrets in the environment.
# Relative paths are relative to this file's folder.

[server]
host = "127.0.0.1"
port = 8080
data_dir = "./data"
language = "zh-Hans"          # zh-Hans, zh-Hant or en: customer-facing system texts
# shutdown_grace_seconds = 10  # SIGINT/SIGTERM: drain within this, then exit (a second signal: at once)
# header_timeout_seconds = 10  # a request's head must arrive within this (an idle keep-alive connection closes then too)
# body_timeout_seconds = 30    # and its body within this after the head; else 408 and the connection closes
# behind_tls_proxy = false     # a TLS proxy fronts csgw: no plain-HTTP warning on a public address
# trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]  # peers whose X-Forwarded-For names the client
#                               # (empty: nobody's; with behind_tls_proxy = true: loopback only)

[server.rate_limits]          # per client IP, per minute (loopback is exempt unless exempt_loopback = false)
webhook_per_minute = 6000
widget_connections_per_minute = 60
widget_messages_per_minute = 120
login_per_minute = 10           # console sign-ins with a login link or token

[database]
url = "sqlite://./data/csgw.db"   # or postgres://user:password@host:5432/dbname

[logging]
level = "info"
format = "auto"               # json when not on a terminal

# The site chat widget. Embed on your pages:
#   <script src="http://127.0.0.1:8080/widget/widget.js" data-site="default" async></script>
[[channels]]
plugin = "webchat"
account = "default"
color = "#1677ff"
# language = "zh-Hans"          # what this site's customers read (widget, bot, hand-over, survey); default: [server] language
# title = "在线客服"             # default: "webchat.title" in the site's language
# greeting = "您好！有什么可以帮您？"  # default: "webchat.greeting" in the site's language; "" for none
# welcome = ["运费怎么算", "多久发货"]  # buttons when the widget opens; default: the menu's first questions; [] for none
# default_group = "售前"         # hand-overs from this site go here (any [[channels]] entry), before [assignment]'s

# [[channels]]
# plugin = "wechat_oa"
# account = "shop"
# token = "${{WECHAT_TOKEN}}"
# app_id = "wx..."
# app_secret = "${{WECHAT_APP_SECRET}}"
# encoding_aes_key = "${{WECHAT_AES_KEY}}"   # safe mode

[plugins]
disabled = []
paths = []

[reply]
{knowledge_base}
[reply.engine]
# model = "e5"          # the bundled meaning model (multilingual-e5-small); "off": words only
# model_threads = 1     # cores the model may use; the rest serve messages
# model_queue = 8       # messages waiting for the model; more are matched on words at once
# model_wait_ms = 40    # a message that would wait longer for its vector is matched on words at once

[assignment]
mode = "least_load"
# [assignment.groups."夜班"]      # a group's own hours, before its channel's and [hours]
# hours = {{ weekly = {{ mon = "18:00-24:00", tue = "18:00-24:00" }} }}

# Business hours (left out: always open). After them, asking for a person says when people are
# back and offers to leave a message; conversations wait for the next shift, oldest first; SLA
# clocks count open time only. A [[channels]] entry may set its own: hours = {{ weekly = {{ … }} }}
# [hours]
# timezone = "Asia/Shanghai"      # default: [server] timezone, else the host's
# weekly = {{ mon = "09:00-12:00,13:30-18:00", tue = "09:00-18:00", wed = "09:00-18:00", thu = "09:00-18:00", fri = "09:00-18:00" }}
# closed_dates = ["2026-10-01", "2026-10-02"]

[escalation]

[customers]
# binding_secret = "${{CSGW_BINDING_SECRET}}"   # lets customers bind to your shop account ("绑定 CODE")
# context_timeout_seconds = 3   # your plugins' live look-ups (customer context, orders) wait at most this

# The bot answers order questions (where is it, tracking number, top-up not arrived, refund) from
# the customer's orders: their profile and your plugin's csgw_customer_context / csgw_order_lookup;
# see docs/orders.md
# [orders]
# bad_statuses = ["topup_failed", "refund_overdue", "delivery_failed"]   # these go to a person
# handover_priority = 10                    # with this priority (and an internal note with the order)
# order_number_pattern = '(?<![A-Za-z0-9])[A-Za-z]{{0,4}}-?\\d{{6,24}}(?![A-Za-z0-9])'
# [orders.status_labels.zh-Hans]
# waiting_card = "等待发卡"

[health]
# notify_url = "https://hooks.example/csgw"   # POSTed on every health state change

# Your own wording of what csgw tells customers, per language; `csgw texts list` shows every text
# [texts.zh-Hans]
# "handover.queued" = "客服马上就来，您前面还有 {{ahead}} 位～"

# Many customers asking about one thing at once (one KB entry, one kind of unanswered question,
# one escalation lane) open an incident: a banner in the console, a broadcast answer
# [incidents]
# enabled = true
# min_customers = 20              # distinct customers…
# window_minutes = 10             # …within this many minutes
# close_after_quiet_minutes = 30  # nobody new asked for this long: closed
# [incidents.lane]                # per kind (entry, unanswered, lane): enabled, min_customers, window_minutes
# min_customers = 10

# Events to your own systems (CRM, ERP), signed with the secret; see docs/webhooks.md
# [[webhooks]]
# url = "https://crm.example.com/hooks/csgw"
# events = ["message.created", "conversation.assigned", "conversation.closed", "customer.updated", "satisfaction.rated"]
# secret = "${{CRM_WEBHOOK_SECRET}}"

# An optional language model (any OpenAI-compatible chat-completions API: DeepSeek, Qwen, Ollama):
# answers from the knowledge base where the bot is unsure, drafts and sums up for agents; see docs/llm.md
# [llm]
# base_url = "https://api.deepseek.com/v1"
# model = "deepseek-chat"
# api_key = "${{LLM_API_KEY}}"
# timeout_seconds = 8
# sites = ["webchat"]             # where it may answer customers (leave out: everywhere)
"""


def config_text(*, demo: bool) -> str:
    kb = 'knowledge_base = "kb/demo.yaml"\n' if demo else "# knowledge_base = \"kb/shop.yaml\"\n"
    return TEMPLATE.format(knowledge_base=kb)
