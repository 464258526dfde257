-- wrk script of `make bench-mock` (scripts/bench_mock.py writes its input files and reads
-- what it writes). Every wrk thread is a separate Lua state: setup() numbers the threads,
-- each thread takes the lines of the input whose position modulo the thread count is its
-- number, and writes its own output files in the run's folder.
--
--   wrk ... -s bench_mock.lua URL -- MODE DIR THREADS [ARGS]
--
-- ceiling              GET the URL as fast as the server answers (a static request)
-- storm SLUG SPREAD_MS learners.txt "idx token": POST /api/v1/tests/SLUG/sessions/ once per
--                      learner, arrivals spread evenly over SPREAD_MS (0: back to back);
--                      storm-N.txt "idx status session_id"; storm-N.done when the thread's
--                      share has all been answered
-- save INTERVAL_MS SEQBASE
--                      sittings.txt "idx token session", questions.txt "qid kind ids":
--                      every sitting saves an answer every INTERVAL_MS (0: back to back),
--                      on a schedule (delay() waits until the next save is due), seq
--                      numbers from SEQBASE + 1; save-N.txt "idx qid seq applied" for
--                      every 200
--
-- A 502/503/504 (a balancer whose backend died, a restarting instance) is retried as the
-- API guide says: the same request again (a save with the same seq, the same start). A
-- scheduled request sent more than 100 ms after it was due counts as "late" (the client,
-- not the server, would then be holding the load back).
-- submit               submits.txt "idx token session" (a line twice: two racing submits):
--                      POST .../submit/ once per line; submit-N.txt
--                      "line idx status session_status submitted_at score"; submit-N.done
--
-- A request is named by its X-Request-ID ("m-..."), which the server echoes back: wrk's
-- response() does not say which connection or request it answers. Non-2xx answers also go
-- to errors-N.txt with the start of their body. done() prints one "BENCHMOCK {json}" line.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_mock_timespec;
int clock_gettime(int clock_id, bench_mock_timespec *tp);
]])
local timespec = ffi.new("bench_mock_timespec")
local CLOCK_MONOTONIC = 1
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local PARK = 24 * 3600 * 1000 -- a connection with nothing left to send waits "forever"

-- setup phase (its own Lua state) ---------------------------------------------------------

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- running phase (one state per thread) ------------------------------------------------------

local mode, dir, slug, host
local mine = {} -- this thread's lines: {idx=, token=, session=, line=}
local queue, head, tail = {}, 1, 0 -- claimed by delay(), taken by request(), in order
local claimed, share = 0, 0
local out, errors_out
local seqs = {}
local questions = {}
local interval_ms, spacing, t0 = 0, 0, 0
local seqbase = 0
local retries, pending = {}, {} -- to send again; request id -> what it carried

statuses = {} -- status -> count (read by done() through thread:get)
answered = 0
late, late_max_ms, retried = 0, 0, 0

local function lines(path)
  local found = {}
  for line in io.lines(path) do
    if line ~= "" then
      table.insert(found, line)
    end
  end
  return found
end

local function split(line)
  local fields = {}
  for field in line:gmatch("%S+") do
    table.insert(fields, field)
  end
  return fields
end

local function take_mine(path, nthreads)
  for position, line in ipairs(lines(path)) do
    if (position - 1) % nthreads == id then
      local f = split(line)
      table.insert(mine, { line = position - 1, idx = tonumber(f[1]), token = f[2], session = f[3] })
    end
  end
  share = #mine
end

local function http(method, path, token, request_id, body)
  body = body or ""
  return method .. " " .. path .. " HTTP/1.1\r\n"
    .. "Host: " .. host .. "\r\n"
    .. "User-Agent: examforge-bench-mock/1\r\n"
    .. "X-Forwarded-Proto: https\r\n"
    .. "Authorization: Bearer " .. token .. "\r\n"
    .. "X-Request-ID: " .. request_id .. "\r\n"
    .. "Content-Type: application/json\r\n"
    .. "Content-Length: " .. #body .. "\r\n\r\n"
    .. body
end

local function mark_done()
  out:flush()
  local marker = io.open(dir .. "/" .. mode .. "-" .. id .. ".done", "w")
  marker:write(answered, "\n")
  marker:close()
end

-- The answer a save with this seq sends to this question: bench_mock.py's answer_for().
local function answer_json(question, seq)
  local ids, n = question.ids, #question.ids
  if question.kind == "single" or question.kind == "true_false" then
    return '{"choices":[' .. ids[seq % n + 1] .. "]}"
  elseif question.kind == "multiple" then
    return '{"choices":[' .. ids[seq % n + 1] .. "," .. ids[(seq + 1) % n + 1] .. "]}"
  elseif question.kind == "numeric" then
    return '{"value":' .. seq .. "}"
  end
  return '{"text":"answer-' .. seq .. '"}'
end

function init(args)
  mode, dir = args[1], args[2]
  local nthreads = tonumber(args[3])
  host = wrk.headers["Host"] or (wrk.host .. ":" .. tostring(wrk.port))
  wrk.headers["X-Forwarded-Proto"] = "https"
  wrk.headers["User-Agent"] = "examforge-bench-mock/1"
  if mode == "ceiling" then
    request = nil -- static: wrk sends the URL's GET itself
    delay = nil
    return
  end
  out = io.open(dir .. "/" .. mode .. "-" .. id .. ".txt", "w")
  errors_out = io.open(dir .. "/errors-" .. mode .. "-" .. id .. ".txt", "w")
  if mode == "storm" then
    slug = args[4]
    take_mine(dir .. "/learners.txt", nthreads)
    interval_ms = tonumber(args[5] or "0")
  elseif mode == "submit" then
    take_mine(dir .. "/submits.txt", nthreads)
  elseif mode == "save" then
    interval_ms = tonumber(args[4])
    seqbase = tonumber(args[5] or "0")
    take_mine(dir .. "/sittings.txt", nthreads)
    for _, line in ipairs(lines(dir .. "/questions.txt")) do
      local f = split(line)
      local ids = {}
      for choice in (f[3] or ""):gmatch("%d+") do
        table.insert(ids, choice)
      end
      table.insert(questions, { id = f[1], kind = f[2], ids = ids })
    end
    for k = 1, share do
      seqs[k] = seqbase
    end
  end
  -- Round robin over this thread's lines: the m-th request is due at t0 + m * spacing, so
  -- each sitting saves once per interval (each learner arrives once within the spread);
  -- threads are staggered within a spacing.
  if mode == "save" or mode == "storm" then
    spacing = share > 0 and interval_ms / share or PARK
    t0 = now_ms() + spacing * id / nthreads
  end
  if share == 0 then
    mark_done()
  end
end

local due = {} -- queue position -> when it is due (ms, monotonic)

function delay()
  if #retries > 0 then
    return 0
  end
  if mode == "save" and share == 0 then
    return PARK
  end
  if mode ~= "save" and claimed >= share then
    return PARK -- this connection's part is over; the thread stops when all are answered
  end
  local m = claimed
  claimed = claimed + 1
  tail = tail + 1
  queue[tail] = mode == "save" and (m % share + 1) or claimed
  if mode == "submit" or interval_ms == 0 then
    due[tail] = nil
    return 0
  end
  local at = t0 + m * spacing
  due[tail] = at
  local wait = at - now_ms()
  return wait > 0 and math.floor(wait) or 0
end

local function note_lateness(position)
  local at = due[position]
  if at == nil then
    return
  end
  due[position] = nil
  local behind = now_ms() - at
  if behind > 100 then
    late = late + 1
  end
  if behind > late_max_ms then
    late_max_ms = behind
  end
end

local function save_request(k, seq, question)
  local item = mine[k]
  local body = '{"answer":' .. answer_json(question, seq)
    .. ',"marked_for_review":false,"time_spent_ms":' .. (seq % 1000000 * 1000)
    .. ',"seq":' .. seq .. "}"
  local path = "/api/v1/sessions/" .. item.session .. "/responses/" .. question.id .. "/"
  local request_id = "m-" .. item.idx .. "-" .. question.id .. "-" .. seq
  pending[request_id] = { k = k, seq = seq, question = question }
  return http("PUT", path, item.token, request_id, body)
end

local function line_request(k)
  local item = mine[k]
  if mode == "storm" then
    pending["m-" .. item.idx] = { k = k }
    return http("POST", "/api/v1/tests/" .. slug .. "/sessions/", item.token, "m-" .. item.idx)
  end
  local path = "/api/v1/sessions/" .. item.session .. "/submit/"
  pending["m-" .. item.idx .. "-" .. item.line] = { k = k }
  return http("POST", path, item.token, "m-" .. item.idx .. "-" .. item.line)
end

function request()
  if #retries > 0 then
    local again = table.remove(retries, 1)
    retried = retried + 1
    if mode == "save" then
      return save_request(again.k, again.seq, again.question)
    end
    return line_request(again.k)
  end
  if head > tail then
    -- wrk asks once at start-up to check the script, and again after a reconnect
    -- without delay(): a harmless request that is no learner's
    return wrk.format("GET", "/healthz")
  end
  local k = queue[head]
  queue[head] = nil
  note_lateness(head)
  head = head + 1
  if mode ~= "save" then
    return line_request(k)
  end
  local item = mine[k]
  local seq = seqs[k] + 1
  seqs[k] = seq
  local i = seq - seqbase - 1
  -- Mostly the next question; every fifth save goes back to the one before (a revisit).
  local question = questions[(item.idx + i - math.floor(i / 5)) % #questions + 1]
  return save_request(k, seq, question)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if mode == "ceiling" then
    return
  end
  local request_id = headers["X-Request-ID"] or headers["x-request-id"] or ""
  if request_id:sub(1, 2) ~= "m-" then
    return -- the filler request
  end
  local sent = pending[request_id]
  pending[request_id] = nil
  if (status == 502 or status == 503 or status == 504) and sent ~= nil then
    errors_out:write(request_id, " ", status, " (retried)\n")
    table.insert(retries, sent)
    return
  end
  answered = answered + 1
  local ok = status >= 200 and status < 300
  if not ok then
    local excerpt = (body or ""):sub(1, 200):gsub("%s+", " ")
    errors_out:write(request_id, " ", status, " ", excerpt, "\n")
  end
  if mode == "storm" then
    local session = ok and body:match('^%s*{%s*"id"%s*:%s*"([%x%-]+)"') or "-"
    out:write(request_id:sub(3), " ", status, " ", session, "\n")
  elseif mode == "submit" then
    local idx, line = request_id:match("^m%-(%d+)%-(%d+)$")
    local state = ok and body:match('"status"%s*:%s*"([%a_]+)"') or "-"
    local at = ok and body:match('"submitted_at"%s*:%s*"([^"]+)"') or "-"
    local score = ok and body:match('"score"%s*:%s*"?([%d%.%-]+)') or "-"
    out:write(line, " ", idx, " ", status, " ", state, " ", at, " ", score, "\n")
  elseif mode == "save" then
    if status == 200 then
      local idx, qid, seq = request_id:match("^m%-(%d+)%-(%d+)%-(%d+)$")
      local applied = body:find('"applied"%s*:%s*true') and 1 or 0
      out:write(idx, " ", qid, " ", seq, " ", applied, "\n")
    end
    return
  end
  if answered == share then
    mark_done()
    wrk.thread:stop()
  end
end

-- done phase (the setup state) ----------------------------------------------------------------

function done(summary, latency, requests)
  local by_status, answers, lates, late_ms, again = {}, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      by_status[status] = (by_status[status] or 0) + count
    end
    answers = answers + (thread:get("answered") or 0)
    lates = lates + (thread:get("late") or 0)
    late_ms = math.max(late_ms, thread:get("late_max_ms") or 0)
    again = again + (thread:get("retried") or 0)
  end
  local parts = {}
  for status, count in pairs(by_status) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHMOCK {"duration_us":%d,"requests":%d,"answered":%d,"late":%d,"late_max_ms":%.1f,'
      .. '"retried":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f},'
      .. '"statuses":{%s}}\n',
    summary.duration, summary.requests, answers, lates, late_ms, again,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    table.concat(parts, ",")
  ))
end
