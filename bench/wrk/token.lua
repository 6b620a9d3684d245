-- wrk script for bench/compare.py: POST /token, one item (code or refresh token) per request.
-- Environment: BENCH_BODY (form body; "{item}" is replaced by the next line of BENCH_ITEMS),
-- BENCH_ITEMS (a file, one single-use item per line; empty for client_credentials),
-- BENCH_AUTH (the Authorization header), BENCH_DELAY_MS (paced mode: each connection waits this
-- long before its next request). Every response is counted by status; done() prints one JSON
-- line starting with "BENCH ".
local body_template = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local items, n, next_item = {}, 0, 0
local threads = {}

ok, bad, exhausted, first_bad = 0, 0, 0, ""

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("BENCH_ITEMS")
  if path ~= nil and path ~= "" then
    for line in io.lines(path) do
      n = n + 1
      items[n] = line
    end
  end
end

if pause > 0 then
  function delay()
    return pause
  end
end

function request()
  local body = body_template
  if n > 0 then
    next_item = next_item + 1
    if next_item > n then
      -- Out of single-use items: the run is void (compare.py says so); stop sending.
      exhausted = 1
      wrk.thread:stop()
      next_item = n
    end
    body = string.gsub(body_template, "{item}", items[next_item])
  end
  return wrk.format("POST", "/token", {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body, 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local total_ok, total_bad, out, first = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_bad = total_bad + thread:get("bad")
    out = out + thread:get("exhausted")
    if first == "" then first = thread:get("first_bad") end
  end
  first = string.gsub(string.gsub(first, "%s+", " "), '[^%w :_%-%.,/=]', "")
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "ok": %d, "non200": %d, "exhausted": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "first_bad": "%s"}\n',
    summary.requests, summary.duration, total_ok, total_bad, out,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    first))
end
