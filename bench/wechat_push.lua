-- wrk script: WeChat plain-mode text pushes with unique MsgIds. Without a mix file: 1,000
-- customers asking six questions, each 1,000 times in a row; with one (args[3], written by
-- bench/ingest_mixes.py, `openid<TAB>text` a line): request n sends line n.
local questions = {"下单后多久发货？", "怎么退货", "尺码怎么选", "支持哪些付款方式", "能开发票吗", "衣服怎么洗"}
local counter = 0
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  -- args[2]: a tag of this wrk's own, so two wrk runs started in one second send distinct MsgIds
  prefix = string.format("%d%s%02d", os.time() % 100000, args[2] or "", tid)
  -- one signed query per request (its own nonce), written by bench_ingest.py
  queries = {}
  for line in io.lines(args[1]) do queries[#queries + 1] = line end
  if args[3] then
    mix = {}
    for line in io.lines(args[3]) do
      local user, text = line:match("^([^\t]*)\t(.*)$")
      mix[#mix + 1] = {user, text}
    end
  end
end

function request()
  counter = counter + 1
  local user, text
  if mix then
    local said = mix[(counter - 1) % #mix + 1]
    user, text = said[1], said[2]
  else
    user, text = string.format("o_user%04d", counter % 1000), questions[math.floor(counter / 1000) % #questions + 1]
  end
  local body = string.format(
    "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>" ..
    "<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content>" ..
    "<MsgId>%s%09d</MsgId></xml>",
    user, os.time(), text, prefix, counter)
  local path = wrk.path .. "?" .. queries[(counter - 1) % #queries + 1]
  return wrk.format("POST", path, {["Content-Type"] = "text/xml"}, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
                 summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "errors": %d, "non_2xx": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, errors, summary.errors.status, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
