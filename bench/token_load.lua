-- wrk script for bench/load.py: POST bodies read from a file, one "PATH<TAB>BODY" per line, in
-- turn, with a content type and more headers ("Name: value") given after the mode.
--   wrk ... -s token_load.lua URL -- BODIES_FILE cycle|once [CONTENT_TYPE [HEADER...]]
-- "cycle" goes round the bodies again (refresh tokens); "once" sends each body once and stops
-- when they run out (authorization codes are single-use). done() prints one line,
-- WRK_RESULT {json}, with the responses other than 200 and the time from the first request to
-- the last answer: wrk's own duration is the -d given, even when the thread stopped early.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]])
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
   return tonumber(clock.tv_sec) * 1000000 + math.floor(tonumber(clock.tv_nsec) / 1000)
end

local requests = {}
local position = 0
local once = false
-- Globals, which done() reads from each thread:
non_200 = 0
first_us = -1
last_us = -1

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   once = args[2] == "once"
   local headers = { ["Content-Type"] = args[3] or "application/x-www-form-urlencoded" }
   for i = 4, #args do
      local name, value = args[i]:match("^([^:]+): (.*)$")
      headers[name] = value
   end
   for line in io.lines(args[1]) do
      local path, body = line:match("^([^\t]*)\t(.*)$")
      if path then
         table.insert(requests, wrk.format("POST", path, headers, body))
      end
   end
end

function request()
   if first_us < 0 then
      first_us = now_us()
   end
   if position < #requests then
      position = position + 1
   elseif once then
      -- Out of bodies: stop. The connection still sends one more (the last body again), but
      -- its answer is never read.
      wrk.thread:stop()
   else
      position = 1
   end
   return requests[position]
end

function response(status, headers, body)
   last_us = now_us()
   if status ~= 200 then
      non_200 = non_200 + 1
   end
end

function done(summary, latency, requests)
   local bad, first, last = 0, nil, nil
   for _, thread in ipairs(threads) do
      bad = bad + thread:get("non_200")
      local t_first, t_last = thread:get("first_us"), thread:get("last_us")
      if t_first >= 0 and (first == nil or t_first < first) then
         first = t_first
      end
      if last == nil or t_last > last then
         last = t_last
      end
   end
   local active = (first ~= nil and last > first) and (last - first) or summary.duration
   local errors = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests": %d, "duration_us": %d, "active_us": %d, "p50_us": %d, ' ..
      '"p99_us": %d, "non_200": %d, "socket_errors": %d}\n',
      summary.requests, summary.duration, active, latency:percentile(50),
      latency:percentile(99), bad, errors.connect + errors.read + errors.write + errors.timeout))
end
