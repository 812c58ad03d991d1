/*
 * event.c - names of the enum-like constants of event.h, and the order
 * status classes that the cache's open / closed / in-flight sets use.
 */
#include "cquant/event.h"

#define NAME_OF(table, v) \
    ((v) >= 0 && (size_t)(v) < sizeof(table) / sizeof(table[0]) && (table)[v] ? (table)[v] : "?")

const char *cq_side_name(int32_t side)
{
    static const char *const t[] = {"NONE", "BUY", "SELL"};
    return NAME_OF(t, side);
}

const char *cq_order_type_name(int32_t type)
{
    static const char *const t[] = {NULL, "MARKET", "LIMIT", "LIMIT_MAKER", "STOP_MARKET", "STOP_LIMIT"};
    return NAME_OF(t, type);
}

const char *cq_tif_name(int32_t tif)
{
    static const char *const t[] = {NULL, "GTC", "IOC", "FOK"};
    return NAME_OF(t, tif);
}

const char *cq_order_status_name(int32_t status)
{
    static const char *const t[] = {NULL, "INITIALIZED", "DENIED", "SUBMITTED", "ACCEPTED",
                                    "REJECTED", "PARTIALLY_FILLED", "FILLED", "PENDING_CANCEL",
                                    "PENDING_UPDATE", "CANCELED", "EXPIRED"};
    return NAME_OF(t, status);
}

const char *cq_event_type_name(int32_t type)
{
    static const char *const t[] = {"none", "trade", "quote", "book_delta", "book", "bar",
                                    "instrument", "order", "order_event", "fill", "position",
                                    "balance", "venue"};
    return NAME_OF(t, type);
}

int cq_order_status_is_open(int32_t s)
{
    return s == CQ_OS_ACCEPTED || s == CQ_OS_PARTIALLY_FILLED || s == CQ_OS_PENDING_CANCEL ||
           s == CQ_OS_PENDING_UPDATE;
}

int cq_order_status_is_closed(int32_t s)
{
    return s == CQ_OS_DENIED || s == CQ_OS_REJECTED || s == CQ_OS_FILLED || s == CQ_OS_CANCELED ||
           s == CQ_OS_EXPIRED;
}

int cq_order_status_is_inflight(int32_t s)
{
    return s == CQ_OS_SUBMITTED || s == CQ_OS_PENDING_CANCEL || s == CQ_OS_PENDING_UPDATE;
}
