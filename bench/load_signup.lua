-- wrk script: signup form POSTs, each with a distinct address (per-thread prefix + counter).
-- Needs CSRF_COOKIE (the csrftoken cookie) and CSRF_TOKEN (the form's csrfmiddlewaretoken),
-- both taken once from GET /newsletter/ by bench/load_run.sh.
local threads = {}

function setup(thread)
  thread:set("prefix", string.format("t%d-%d", #threads + 1, os.time()))
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  token = os.getenv("CSRF_TOKEN")
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. os.getenv("CSRF_COOKIE"),
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
  }
end

function request()
  counter = counter + 1
  local body = "csrfmiddlewaretoken=" .. token .. "&email=load-" .. prefix .. "-" .. counter ..
    "%40example.com&frequency=daily&source=article_box"
  return wrk.format("POST", "/newsletter/", headers, body)
end

function done(summary, latency, requests)
  io.write(string.format("signup requests: %d, non-2xx/3xx: %d\n", summary.requests, summary.errors.status))
end
