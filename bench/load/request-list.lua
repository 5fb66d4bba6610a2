-- wrk script: replays a prepared request list (one request per line: METHOD\tPATH\tName:Value;...\tBODY),
-- in order, so every request of a run is distinct; prints the run's numbers as one JSON line.
local requests = {}
local index = 0
local cycled = 0

function init(args)
  for line in io.lines(args[1]) do
    local method, path, headerText, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    for name, value in headerText:gmatch("([^:;]+):([^;]*)") do
      headers[name] = value
    end
    if body == "" then body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
end

function request()
  index = index + 1
  if index > #requests then
    index = 1
    cycled = cycled + 1
  end
  return requests[index]
end

function done(summary, latency, _)
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
