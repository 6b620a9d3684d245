-- wrk script for bench/memory.py: cycles through the requests listed in BENCH_MIX, one per line
-- as "METHOD<TAB>PATH<TAB>AUTHORIZATION<TAB>FORM BODY" (empty fields allowed), and counts the
-- answers by status; done() prints one JSON line starting with "BENCH ".
local mix, n, i = {}, 0, 0
local threads = {}
ok, bad, first_bad = 0, 0, ""

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in string.gmatch(os.getenv("BENCH_MIX") or "", "[^\n]+") do
    local method, path, auth, body = string.match(line, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    local headers = {}
    if auth ~= "" then headers["Authorization"] = auth end
    if body ~= "" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
    n = n + 1
    mix[n] = wrk.format(method, path, headers, body ~= "" and body or nil)
  end
end

function request()
  i = i % n + 1
  return mix[i]
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body, 1, 120) end
  end
end

function done(summary, latency, requests)
  local total_ok, total_bad, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_bad = total_bad + thread:get("bad")
    if first == "" then first = thread:get("first_bad") end
  end
  first = string.gsub(string.gsub(first, "%s+", " "), '[^%w :_%-%.,/=]', "")
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "ok": %d, "non200": %d, "first_bad": "%s"}\n',
    summary.requests, summary.duration, total_ok, total_bad, first))
end
