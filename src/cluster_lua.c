/* The Lua scripts of a batch across machines (cluster_lua.h says what each takes and answers).
 * Each runs atomically on the Redis server: a commit checks who holds the item and records its
 * result in one step, which MULTI/EXEC cannot (it cannot branch on what it reads). */
#include <stdio.h>
#include <string.h>

#include "cluster_lua.h"

void cluster_key(char *buf, const char *batch, const char *part)
{
	snprintf(buf, CLUSTER_KEY_MAX, "pooltop:{%s}:%s", batch, part);
}

int cluster_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CLUSTER_NAME_MAX)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

const char cluster_lua_reserve[] =
	"local meta, items, subs = KEYS[1], KEYS[2], KEYS[3]\n"
	"local n = tonumber(ARGV[3])\n"
	"if redis.call('EXISTS', meta) == 0 then\n"
	"  redis.call('HSET', meta, 'epoch', ARGV[1], 'created', ARGV[4], 'next', 0, 'total', 0,\n"
	"             'done', 0, 'failed', 0, 'complete', 0)\n"
	"  redis.pcall('XGROUP', 'CREATE', items, 'g', '0', 'MKSTREAM')\n"
	"end\n"
	"local base = redis.call('HGET', subs, ARGV[2])\n"
	"if not base then\n"
	"  if redis.call('HGET', meta, 'complete') == '1' then\n"
	"    return redis.error_reply('COMPLETE')\n"
	"  end\n"
	"  base = redis.call('HINCRBY', meta, 'next', n) - n\n"
	"  redis.call('HSET', subs, ARGV[2], base)\n"
	"end\n"
	"return {redis.call('HGET', meta, 'epoch'), tonumber(base)}\n";

const char cluster_lua_add[] =
	"local meta, items, seen = KEYS[1], KEYS[2], KEYS[3]\n"
	"if redis.call('HGET', meta, 'epoch') ~= ARGV[1] then\n"
	"  return redis.error_reply('EPOCH')\n"
	"end\n"
	"local new = false\n"
	"for k = 2, #ARGV, 2 do\n"
	"  if redis.call('HEXISTS', seen, ARGV[k]) == 0 then new = true break end\n"
	"end\n"
	"if new and redis.call('HGET', meta, 'complete') == '1' then\n"
	"  return redis.error_reply('COMPLETE')\n"
	"end\n"
	"local added = 0\n"
	"for k = 2, #ARGV, 2 do\n"
	"  if redis.call('HSETNX', seen, ARGV[k], 1) == 1 then\n"
	"    redis.call('XADD', items, '*', 's', ARGV[k], 'i', ARGV[k + 1])\n"
	"    added = added + 1\n"
	"  end\n"
	"end\n"
	"if added > 0 then redis.call('HINCRBY', meta, 'total', added) end\n"
	"return added\n";

const char cluster_lua_close[] = "if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then\n"
				 "  return redis.error_reply('EPOCH')\n"
				 "end\n"
				 "local total = tonumber(redis.call('HGET', KEYS[1], 'total'))\n"
				 "local reserved = tonumber(redis.call('HGET', KEYS[1], 'next'))\n"
				 "if total < reserved then\n"
				 "  return redis.error_reply('INCOMPLETE ' .. (reserved - total))\n"
				 "end\n"
				 "redis.call('HSET', KEYS[1], 'complete', 1)\n"
				 "return total\n";

const char cluster_lua_join[] =
	"local meta, hosts, live = KEYS[1], KEYS[2], KEYS[3]\n"
	"if redis.call('EXISTS', meta) == 0 then return redis.error_reply('NOBATCH') end\n"
	"local kind = redis.call('HGET', meta, 'kind')\n"
	"if kind and kind ~= ARGV[1] then return redis.error_reply('KIND ' .. kind) end\n"
	"if not redis.call('SET', live, ARGV[3], 'PX', ARGV[4], 'NX') then\n"
	"  return redis.error_reply('LIVE ' .. redis.call('PTTL', live))\n"
	"end\n"
	"if not kind then redis.call('HSET', meta, 'kind', ARGV[1]) end\n"
	"redis.call('HSETNX', meta, 'lease', ARGV[5])\n"
	"redis.call('HSETNX', meta, 'retries', ARGV[6])\n"
	"redis.call('HSET', hosts, ARGV[2], ARGV[3])\n"
	"return {redis.call('HGET', meta, 'epoch'), ARGV[1],\n"
	"        tonumber(redis.call('HGET', meta, 'lease')),\n"
	"        tonumber(redis.call('HGET', meta, 'retries'))}\n";

const char cluster_lua_heartbeat[] = "local v = redis.call('GET', KEYS[1])\n"
				     "if v and v ~= ARGV[1] then return 0 end\n"
				     "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
				     "return 1\n";

const char cluster_lua_commit[] =
	"local meta, items, res = KEYS[1], KEYS[2], KEYS[3]\n"
	"if redis.call('HGET', meta, 'epoch') ~= ARGV[1] then\n"
	"  return redis.error_reply('EPOCH')\n"
	"end\n"
	"local me = ARGV[2]\n"
	"local out, done, failed = {}, 0, 0\n"
	"for k = 3, #ARGV, 4 do\n"
	"  local id, seq = ARGV[k], ARGV[k + 1]\n"
	"  local p = redis.call('XPENDING', items, 'g', id, id, 1)\n"
	"  local owner = p[1] and p[1][2] or ''\n"
	"  if owner ~= me then\n"
	"    out[#out + 1] = owner\n"
	"  else\n"
	"    if redis.call('HSETNX', res, seq, ARGV[k + 3]) == 1 then\n"
	"      if ARGV[k + 2] == '1' then failed = failed + 1 else done = done + 1 end\n"
	"      out[#out + 1] = 1\n"
	"    else\n"
	"      out[#out + 1] = 0\n"
	"    end\n"
	"    redis.call('XACK', items, 'g', id)\n"
	"  end\n"
	"end\n"
	"if done > 0 then redis.call('HINCRBY', meta, 'done', done) end\n"
	"if failed > 0 then redis.call('HINCRBY', meta, 'failed', failed) end\n"
	"return out\n";

const char cluster_lua_trim[] = "local items = KEYS[1]\n"
				"local p = redis.call('XPENDING', items, 'g')\n"
				"local minid = p[2]\n"
				"if not minid then\n"
				"  for _, g in ipairs(redis.call('XINFO', 'GROUPS', items)) do\n"
				"    for k = 1, #g, 2 do\n"
				"      if g[k] == 'last-delivered-id' then minid = g[k + 1] end\n"
				"    end\n"
				"  end\n"
				"  if not minid then return 0 end\n"
				"  local ms, n = string.match(minid, '^(%d+)-(%d+)$')\n"
				"  minid = ms .. '-' .. (tonumber(n) + 1)\n"
				"end\n"
				"return redis.call('XTRIM', items, 'MINID', '~', minid)\n";

const char cluster_lua_reclaim[] =
	"local items, me, lease = KEYS[1], ARGV[1], ARGV[2]\n"
	"local p = redis.call('XPENDING', items, 'g', 'IDLE', lease, '-', '+', ARGV[3])\n"
	"local out = {}\n"
	"for _, e in ipairs(p) do\n"
	"  local c = redis.call('XCLAIM', items, 'g', me, lease, e[1])\n"
	"  if type(c[1]) == 'table' then\n"
	"    out[#out + 1] = {c[1][1], c[1][2], e[4] + 1}\n"
	"  end\n"
	"end\n"
	"return out\n";

const char cluster_lua_release[] =
	"local items, me, lease = KEYS[1], ARGV[1], ARGV[2]\n"
	"local n = 0\n"
	"for k = 3, #ARGV do\n"
	"  local p = redis.call('XPENDING', items, 'g', ARGV[k], ARGV[k], 1)\n"
	"  if p[1] and p[1][2] == me then\n"
	"    redis.call('XCLAIM', items, 'g', me, 0, ARGV[k], 'IDLE', lease, 'RETRYCOUNT',\n"
	"                math.max(p[1][4] - 1, 0), 'JUSTID')\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"return n\n";

const char cluster_lua_adopt[] =
	"local items, me = KEYS[1], ARGV[1]\n"
	"local out = {}\n"
	"for _, e in ipairs(redis.call('XPENDING', items, 'g', '-', '+', ARGV[2], me)) do\n"
	"  local r = redis.call('XRANGE', items, e[1], e[1])\n"
	"  if r[1] then\n"
	"    redis.call('XCLAIM', items, 'g', me, 0, e[1], 'JUSTID')\n"
	"    out[#out + 1] = {r[1][1], r[1][2], e[4]}\n"
	"  end\n"
	"end\n"
	"return out\n";

const char cluster_lua_views[] = "local out = {}\n"
				 "for _, h in ipairs(redis.call('HKEYS', KEYS[1])) do\n"
				 "  if h ~= ARGV[1] then\n"
				 "    local v = redis.call('GET', ARGV[2] .. h)\n"
				 "    if v then out[#out + 1] = v end\n"
				 "  end\n"
				 "end\n"
				 "return out\n";

const char cluster_lua_renew[] =
	"local items, me = KEYS[1], ARGV[1]\n"
	"local lost = {}\n"
	"for k = 2, #ARGV do\n"
	"  local p = redis.call('XPENDING', items, 'g', ARGV[k], ARGV[k], 1)\n"
	"  if p[1] and p[1][2] == me then\n"
	"    redis.call('XCLAIM', items, 'g', me, 0, ARGV[k], 'JUSTID')\n"
	"  else\n"
	"    lost[#lost + 1] = ARGV[k]\n"
	"  end\n"
	"end\n"
	"return lost\n";
