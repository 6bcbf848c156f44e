-- hotpath real-world benchmark: a fixed, deterministic, CPU-bound Lua 5.4
-- workload.  It mixes numeric loops, table operations, string building,
-- closures, metatables and coroutines, and prints one checksum per section
-- plus a total.  The output must be identical on every run (it is compared
-- between native and hotpath runs), so nothing here depends on time, on
-- addresses or on the iteration order of pairs() over hashed keys.
--
-- usage: lua bench.lua [SCALE]     (SCALE defaults to 2; work grows linearly)

local SCALE = tonumber(arg and arg[1]) or 2
local MASK = 0xffffffff

-- Deterministic 32-bit LCG (Numerical Recipes constants); no math.random.
local seed = 12345
local function rnd(n)
  seed = (seed * 1664525 + 1013904223) & MASK
  return (seed >> 8) % n
end

local function mix(h, v)
  return ((h ~ v) * 16777619) & MASK
end

-- 1. Numeric loops: sieve of Eratosthenes + float Mandelbrot + integer math.
local function numeric()
  local h = 2166136261
  local n = 400000
  local sieve = {}
  for i = 2, n do sieve[i] = true end
  for i = 2, math.floor(math.sqrt(n)) do
    if sieve[i] then
      for j = i * i, n, i do sieve[j] = false end
    end
  end
  local count, sum = 0, 0
  for i = 2, n do
    if sieve[i] then count = count + 1; sum = sum + i end
  end
  h = mix(h, count); h = mix(h, sum & MASK)

  local w, ht, iters = 160, 100, 80
  local inside = 0
  for y = 0, ht - 1 do
    local ci = (y / ht) * 2.4 - 1.2
    for x = 0, w - 1 do
      local cr = (x / w) * 3.0 - 2.1
      local zr, zi, k = 0.0, 0.0, 0
      while k < iters and zr * zr + zi * zi < 4.0 do
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        k = k + 1
      end
      if k == iters then inside = inside + 1 end
      h = mix(h, k)
    end
  end
  h = mix(h, inside)

  local acc = 0
  for i = 1, 300000 do
    acc = (acc + i * i // 7 + (i % 13) * 3) % 1000000007
  end
  return mix(h, acc)
end

-- 2. Table operations: array build, sort with a comparator, insert/remove,
--    integer-keyed hash tables, record tables.
local function tables()
  local h = 2166136261
  local arr = {}
  for i = 1, 60000 do arr[i] = rnd(1000000) end
  table.sort(arr)
  for i = 1, #arr, 97 do h = mix(h, arr[i]) end

  local recs = {}
  for i = 1, 20000 do
    recs[i] = { id = i, key = rnd(5000), weight = rnd(100) }
  end
  table.sort(recs, function(a, b)
    if a.key ~= b.key then return a.key < b.key end
    return a.id < b.id
  end)
  for i = 1, #recs, 53 do h = mix(h, recs[i].id) end

  local q = {}
  for i = 1, 6000 do
    table.insert(q, i)
    if i % 3 == 0 then h = mix(h, table.remove(q, 1 + rnd(#q))) end
  end
  h = mix(h, #q)

  local counts = {}
  for _ = 1, 200000 do
    local k = rnd(4096) * 7919
    counts[k] = (counts[k] or 0) + 1
  end
  local keys, total = 0, 0
  for k, v in pairs(counts) do   -- order-independent aggregate only
    keys = keys + 1
    total = (total + k * v) & MASK
  end
  h = mix(h, keys); h = mix(h, total)

  -- 2-D grid, cellular-automaton style updates.
  local W = 64
  local grid = {}
  for y = 1, W do
    local row = {}
    for x = 1, W do row[x] = rnd(2) end
    grid[y] = row
  end
  for _ = 1, 12 do
    local nxt = {}
    for y = 1, W do
      local row, up, down = grid[y], grid[(y - 2) % W + 1], grid[y % W + 1]
      local nrow = {}
      for x = 1, W do
        local l, r = (x - 2) % W + 1, x % W + 1
        local s = up[l] + up[x] + up[r] + row[l] + row[r] + down[l] + down[x] + down[r]
        nrow[x] = (s == 3 or (s == 2 and row[x] == 1)) and 1 or 0
      end
      nxt[y] = nrow
    end
    grid = nxt
  end
  for y = 1, W do
    for x = 1, W do h = mix(h, grid[y][x] + x) end
  end
  return h
end

-- 3. String building: concatenation, string.format, table.concat, gsub,
--    find, byte/char, rep, upper/lower.
local function strings()
  local h = 2166136261
  local words = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta",
                  "eta", "theta", "iota", "kappa", "lambda", "mu" }
  local parts = {}
  for i = 1, 40000 do
    parts[#parts + 1] = string.format("%s-%05d:%x", words[rnd(#words) + 1], i, rnd(65536))
  end
  local big = table.concat(parts, ",")
  h = mix(h, #big)

  local n = 0
  for w in big:gmatch("(%a+)%-") do n = n + #w end
  h = mix(h, n)

  local replaced, reps = big:gsub("a(%a)", "%1A")
  h = mix(h, reps); h = mix(h, #replaced)

  local s = ""
  for i = 1, 3000 do
    s = s .. string.char(97 + i % 26)
    if #s > 200 then s = s:sub(50) end
  end
  h = mix(h, #s)
  for i = 1, #s do h = mix(h, s:byte(i)) end

  local pos, found = 1, 0
  while true do
    local a, b = big:find("delta-0", pos, true)
    if not a then break end
    found = found + 1
    pos = b + 1
  end
  h = mix(h, found)

  local acc = 0
  for i = 1, 20000 do
    local t = tostring(i * 31) .. ("x"):rep(i % 7)
    acc = (acc + #t:upper() + tonumber(t:match("%d+"))) & MASK
  end
  return mix(h, acc)
end

-- 4. Closures and higher-order functions.
local function closures()
  local h = 2166136261
  local function counter(step)
    local c = 0
    return function() c = c + step; return c end
  end
  local cs = {}
  for i = 1, 100 do cs[i] = counter(i) end
  for _ = 1, 2000 do
    for i = 1, #cs do h = mix(h, cs[i]() & 0xffff) end
  end

  local function map(t, f) local r = {} for i = 1, #t do r[i] = f(t[i]) end return r end
  local function filter(t, p) local r = {} for i = 1, #t do if p(t[i]) then r[#r + 1] = t[i] end end return r end
  local function reduce(t, f, a) for i = 1, #t do a = f(a, t[i]) end return a end
  local function compose(f, g) return function(x) return f(g(x)) end end

  local data = {}
  for i = 1, 5000 do data[i] = i end
  local inc = function(x) return x + 1 end
  local dbl = function(x) return x * 2 end
  local f = compose(inc, compose(dbl, inc))
  for round = 1, 40 do
    local m = map(data, f)
    local fl = filter(m, function(x) return x % (round % 5 + 2) == 0 end)
    local r = reduce(fl, function(a, x) return (a + x * round) & MASK end, 0)
    h = mix(h, r)
  end

  local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
  h = mix(h, fib(25))
  return h
end

-- 5. Metatables / OOP: method dispatch, __index chains, __add, __lt.
local function objects()
  local h = 2166136261
  local Vec = {}
  Vec.__index = Vec
  function Vec.new(x, y) return setmetatable({ x = x, y = y }, Vec) end
  function Vec.__add(a, b) return Vec.new(a.x + b.x, a.y + b.y) end
  function Vec.__lt(a, b) return a:len2() < b:len2() end
  function Vec:len2() return self.x * self.x + self.y * self.y end
  function Vec:scale(k) return Vec.new(self.x * k, self.y * k) end

  local Particle = setmetatable({}, { __index = Vec })
  Particle.__index = Particle
  Particle.__add = Vec.__add
  Particle.__lt = Vec.__lt
  function Particle.new(x, y, m)
    local p = Vec.new(x, y); p.m = m
    return setmetatable(p, Particle)
  end
  function Particle:momentum() return self:scale(self.m) end

  local ps = {}
  for i = 1, 2000 do ps[i] = Particle.new(rnd(200) - 100, rnd(200) - 100, rnd(9) + 1) end
  for _ = 1, 40 do
    local total = Vec.new(0, 0)
    for i = 1, #ps do total = total + ps[i]:momentum() end
    h = mix(h, total.x & MASK); h = mix(h, total.y & MASK)
    for i = 1, #ps do
      local p = ps[i]
      p.x = (p.x * 5 + 3) % 211 - 105
      p.y = (p.y * 7 + 1) % 199 - 99
    end
  end
  local smaller = 0
  for i = 2, #ps do if ps[i] < ps[i - 1] then smaller = smaller + 1 end end
  return mix(h, smaller)
end

-- 6. Coroutines: a generator pipeline.
local function coroutines()
  local h = 2166136261
  local function gen(n)
    return coroutine.wrap(function()
      for i = 1, n do coroutine.yield(i) end
    end)
  end
  local function filt(src, p)
    return coroutine.wrap(function()
      for v in src do if p(v) then coroutine.yield(v) end end
    end)
  end
  for round = 1, 6 do
    local s = 0
    for v in filt(gen(20000), function(x) return x % (round + 1) ~= 0 end) do
      s = s + v
    end
    h = mix(h, s & MASK)
  end
  return h
end

local sections = {
  { "numeric", numeric }, { "tables", tables }, { "strings", strings },
  { "closures", closures }, { "objects", objects }, { "coroutines", coroutines },
}

local total = 2166136261
for round = 1, SCALE do
  for _, s in ipairs(sections) do
    local v = s[2]()
    print(string.format("%d %-10s %08x", round, s[1], v))
    total = mix(total, v)
  end
end
print(string.format("checksum %08x", total))
