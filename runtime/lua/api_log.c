/*
 * api_log.c - log.debug / info / warn / error: the C end. The Lua end
 * (lua/cquant/api.lua) checks the level first, formats with string.format,
 * and calls this through FFI with the strategy's name as the module.
 *
 * Must never call back into Lua (it is reached through FFI): a log sink
 * installed by the runtime must not enter the Lua host either.
 */
#include "lua/lua_host.h"

void cq_luah_log_write(const cq_log_t *log, int level, const char *module, const char *msg)
{
    cq_logf(log, level, module, "%s", msg ? msg : "");
}
