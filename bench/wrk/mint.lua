-- wrk script for bench/targets.py: mints authorization codes through GET /authorize as a
-- signed-in browser (BENCH_PATH, with the session's cookies in BENCH_COOKIE) and appends the
-- code of each redirect to BENCH_OUT, one per line, until BENCH_COUNT codes are written.
local path = os.getenv("BENCH_PATH")
local cookie = os.getenv("BENCH_COOKIE")
local wanted = tonumber(os.getenv("BENCH_COUNT"))
local out = nil
written = 0

function init(args)
  out = io.open(os.getenv("BENCH_OUT"), "a")
end

function request()
  return wrk.format("GET", path, { ["Cookie"] = cookie })
end

function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  local code = string.match(location, "[?&]code=([^&]+)")
  if code ~= nil and written < wanted then
    out:write(code .. "\n")
    written = written + 1
    if written >= wanted then
      out:flush()
      wrk.thread:stop()
    end
  end
end
