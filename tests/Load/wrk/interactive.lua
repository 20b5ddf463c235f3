-- wrk script for the interactive conversation mix of tests/Load/lib/updates.js (the k6 scenarios' mix, same
-- proportions): /help 30 %, /start 10 %, /lang 5 %, /stop 5 %, plain text 25 %, inline-button callbacks 15 %,
-- chat join requests 10 %; a unique update_id on every request, USERS users (default 5000), signed with
-- WEBHOOK_SECRET. Prints the same summary lines as ingest.lua.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  base = (tonumber(os.getenv("ID_BASE") or "1000000000")) + tid * 100000000
  users = tonumber(os.getenv("USERS") or "5000")
  gated = os.getenv("GATED_CHAT_ID") or "-1001000000001"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = os.getenv("WEBHOOK_SECRET")
end

local function user(id)
  return string.format('{"id":%d,"is_bot":false,"first_name":"Load","language_code":"en"}', id)
end

local function message(id, uid, text, entities)
  return string.format(
    '{"update_id":%d,"message":{"message_id":%d,"date":1764400000,"chat":{"id":%d,"type":"private","first_name":"Load"},"from":%s,"text":"%s"%s}}',
    id, id, uid, user(uid), text, entities)
end

local function command(id, uid, name)
  return message(id, uid, "/" .. name, string.format(',"entities":[{"type":"bot_command","offset":0,"length":%d}]', #name + 1))
end

function request()
  counter = counter + 1
  local id = base + counter
  local uid = 100000 + (counter * 7919) % users
  local roll = ((counter * 2654435761) % 1000) / 1000
  local body
  if roll < 0.30 then body = command(id, uid, "help")
  elseif roll < 0.40 then body = command(id, uid, "start")
  elseif roll < 0.45 then body = command(id, uid, "lang")
  elseif roll < 0.50 then body = command(id, uid, "stop")
  elseif roll < 0.75 then body = message(id, uid, "hello " .. id, "")
  elseif roll < 0.90 then
    body = string.format(
      '{"update_id":%d,"callback_query":{"id":"cb%d","from":%s,"chat_instance":"ci%d","data":"answer:%d","message":{"message_id":1,"date":1764400000,"chat":{"id":%d,"type":"private","first_name":"Load"},"text":"pick one"}}}',
      id, id, user(uid), uid, id % 4, uid)
  else
    body = string.format(
      '{"update_id":%d,"chat_join_request":{"chat":{"id":%s,"type":"supergroup","title":"Load community"},"from":%s,"user_chat_id":%d,"date":1764400000}}',
      id, gated, user(uid), uid)
  end
  return wrk.format(nil, "/telegram/webhook", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("requests=%d duration_s=%.2f rps=%.0f\n", summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6)))
  io.write(string.format("latency_ms p50=%.2f p90=%.2f p99=%.2f p99.9=%.2f max=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
  io.write(string.format("errors connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
