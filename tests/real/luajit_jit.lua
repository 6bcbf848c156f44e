-- A JIT-heavy LuaJIT script (issue 14: JIT code keeps running identically
-- under hotpath): LuaJIT records and compiles its own traces of these
-- loops (side traces at the branches that flip), writes them into its
-- machine-code areas and protects them, which hotpath then translates;
-- FFI calls into libc. Deterministic output.
local jit = require("jit")
local ffi = require("ffi")
ffi.cdef [[ int abs(int); size_t strlen(const char *); ]]

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end

local t = {}
for i = 1, 300000 do t[i] = (i * 7) % 1000 end
local s = 0
for i = 1, #t do
  if i % 3 == 0 then s = s + t[i] else s = s - (t[i] % 7) end  -- a branch that flips
end

local words = {}
for i = 1, 100000 do
  local k = "k" .. (i % 977)
  words[k] = (words[k] or 0) + 1
end
local n, keys = 0, {}
for k, v in pairs(words) do n = n + v; keys[#keys + 1] = k end
table.sort(keys)

local parts = {}
for i = 1, 5000 do parts[#parts + 1] = string.format("%d:%x", i, i * i) end
local joined = table.concat(parts, ",")

local acc = 0
for i = -100000, 100000 do acc = acc + ffi.C.abs(i) end

-- Many small functions, each compiled: LuaJIT's machine code keeps growing.
local fns = {}
for j = 1, 200 do
  local f = load("local x = ... local s = 0 for i = 1, 300 do s = s + (i * " .. j .. ") % 11 + x end return s")
  fns[j] = f
end
local total = 0
for r = 1, 20 do for j = 1, #fns do total = total + fns[j](r) end end

local buf = ffi.new("char[?]", 64)
ffi.copy(buf, "hotpath and luajit")
print(s, fib(27), n, #keys, keys[1], keys[#keys], #joined, acc, total, tonumber(ffi.C.strlen(buf)))
print("jit", (jit.status()))
