/**
 * `later(a, b)`: whether `a` sorts after `b` in byte order, as a sorted set orders the members of
 * one score (Lua's `<` follows the locale). Spliced into the scripts that need it.
 */
export const LATER_LUA = /* lua */ `
local function later(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
`;
