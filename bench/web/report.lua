-- wrk script: check every answer (a 2xx status and the page's marker in its body), then print the counts and
-- the latency percentiles as one JSON line at the end.
--
-- Usage: wrk ... -s report.lua URL -- MARKER
--
-- wrk runs response() in each thread's own Lua state; done() runs in yet another one and sees none of their
-- variables.  So each thread keeps its counts in globals, setup() keeps a handle on every thread, and done()
-- reads the counts back through thread:get().  (A local counter in response() is invisible to done(): the
-- harness once printed 0 while every answer was a 302 to the login page.)
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  marker = args[1] or ""
  non2xx = 0
  wrong_page = 0
  first_bad = ""
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then first_bad = "HTTP " .. status .. " " .. (headers["Location"] or "") end
  elseif marker ~= "" and not string.find(body, marker, 1, true) then
    wrong_page = wrong_page + 1
    if first_bad == "" then first_bad = "HTTP " .. status .. " without the marker" end
  end
end

function done(summary, latency, requests)
  local bad, wrong, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    wrong = wrong + thread:get("wrong_page")
    if first == "" then first = thread:get("first_bad") end
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "wrong_page": %d, "first_bad": "%s", '
      .. '"p50_ms": %.1f, "p90_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    bad, wrong, string.gsub(first, '[%c"\\]', "?"),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
