-- wrk script for the webhook ingest: a unique update_id on every request (thread number in the high digits),
-- spread over 1,000 chats, signed with WEBHOOK_SECRET. Prints the status codes seen at the end.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  base = (tonumber(os.getenv("ID_BASE") or "1000000000")) + tid * 100000000
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = os.getenv("WEBHOOK_SECRET")
  statuses = {}
end

function request()
  counter = counter + 1
  local id = base + counter
  local chat = id % 1000 + 1
  local body = string.format(
    '{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"chat":{"id":%d,"type":"private","first_name":"Load"},"from":{"id":%d,"is_bot":false,"first_name":"Load"},"text":"load %d"}}',
    id, id, chat, chat, id)
  return wrk.format(nil, "/telegram/webhook", nil, body)
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
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
