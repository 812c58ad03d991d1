/*
 * bus.h - the message bus: publish/subscribe, request/response, send.
 *
 * Single-threaded, synchronous, allocation-free on publish.
 *
 * Topics are dot-separated strings ("data.trades.BINANCE.BTCUSDT").
 * Subscriptions are patterns where '*' matches any run of characters
 * (including dots and the empty run) and '?' matches exactly one character.
 * A publisher interns its topic once (cq_bus_topic) and publishes by handle;
 * the bus keeps, per topic, the resolved list of matching handlers, ordered
 * by priority (higher first) then subscription order, and updates it when
 * subscriptions change. A publish does no string work.
 *
 * Re-entrancy: a handler may publish, subscribe and unsubscribe. A handler
 * unsubscribed during a dispatch is not called again, not even later in the
 * same dispatch; one subscribed during a dispatch does not see the message
 * being dispatched.
 *
 * Request/response: one handler per endpoint name. Each request gets exactly
 * one response, delivered to the requester's callback: synchronously (the
 * endpoint calls cq_bus_respond before returning) or later (the endpoint
 * keeps the correlation id and responds when its I/O completes).
 *
 * Send: fire-and-forget to one registered command endpoint.
 *
 * Messages are borrowed: the bus never copies or frees them; a message is
 * valid for the duration of the handler call.
 */
#ifndef CQUANT_BUS_H
#define CQUANT_BUS_H

#include <stddef.h>
#include <stdint.h>

#define CQ_BUS_TOPIC_MAX 255   /* longest topic or pattern, without the NUL */
#define CQ_BUS_DEPTH_MAX 64    /* callbacks nested deeper: publish/send/request give CQ_EBUSY */

typedef struct cq_bus cq_bus_t;
typedef uint32_t cq_topic_t;   /* interned topic handle, >= 1 */
typedef uint64_t cq_sub_t;     /* subscription id, >= 1, never reused */

/* A subscriber. msg is borrowed for the call. */
typedef void (*cq_handler_fn)(void *user, cq_topic_t topic, const void *msg);

/* A command endpoint (cq_bus_send). */
typedef void (*cq_command_fn)(void *user, const void *msg);

/* A request endpoint. It must eventually call cq_bus_respond(bus, corr, ...)
 * exactly once, either before returning or later. */
typedef void (*cq_request_fn)(void *user, cq_bus_t *bus, uint64_t corr, const void *req);

/* The requester's callback: status is 0 or a CQ_E* code; resp is borrowed. */
typedef void (*cq_response_fn)(void *user, uint64_t corr, int status, const void *resp);

typedef struct cq_bus_stats {
    uint64_t published;    /* publish calls */
    uint64_t delivered;    /* handler calls */
    uint64_t requests;
    uint64_t responses;
    uint64_t sends;
    uint32_t topics;       /* interned topics */
    uint32_t subscriptions;/* live subscriptions */
} cq_bus_stats_t;

int cq_bus_create(cq_bus_t **out);
/* Frees the bus, its subscriptions and endpoints; pending requests are
 * dropped without calling back. Called from inside a callback, the free is
 * deferred until the outermost callback returns. */
void cq_bus_destroy(cq_bus_t *bus);

/* Intern a topic (exact name, no wildcards allowed: '*' or '?' in a topic
 * gives CQ_EINVAL). Interning the same name again gives the same handle. */
int cq_bus_topic(cq_bus_t *bus, const char *topic, cq_topic_t *out);

/* Name of an interned topic, or NULL. */
const char *cq_bus_topic_name(const cq_bus_t *bus, cq_topic_t topic);

/* Subscribe fn to every topic, present or future, matching pattern.
 * Higher priority runs first; equal priorities run in subscription order.
 * The subscription id goes to *out (may be NULL). */
int cq_bus_subscribe(cq_bus_t *bus, const char *pattern, int priority,
                     cq_handler_fn fn, void *user, cq_sub_t *out);

/* CQ_ENOENT if the id is not a live subscription. */
int cq_bus_unsubscribe(cq_bus_t *bus, cq_sub_t sub);

/* Deliver msg to every handler of topic. Returns the number of handlers
 * called (>= 0) or CQ_ENOENT for a handle never issued (CQ_EBUSY past
 * CQ_BUS_DEPTH_MAX nested callbacks, e.g. a handler republishing forever). */
int cq_bus_publish(cq_bus_t *bus, cq_topic_t topic, const void *msg);

/* Convenience: intern then publish. Slower; not for hot paths. */
int cq_bus_publish_name(cq_bus_t *bus, const char *topic, const void *msg);

/* Number of handlers a publish on topic would call now (>= 0 or CQ_ENOENT). */
int cq_bus_handler_count(const cq_bus_t *bus, cq_topic_t topic);

/* Endpoints. Names follow topic rules (no wildcards). CQ_EEXIST if the name
 * is already registered (as either kind). */
int cq_bus_register_command(cq_bus_t *bus, const char *endpoint, cq_command_fn fn, void *user);
int cq_bus_register_request(cq_bus_t *bus, const char *endpoint, cq_request_fn fn, void *user);
/* CQ_ENOENT if not registered. */
int cq_bus_deregister(cq_bus_t *bus, const char *endpoint);

/* Fire-and-forget. CQ_ENOENT if no command endpoint has that name. */
int cq_bus_send(cq_bus_t *bus, const char *endpoint, const void *msg);

/* Issue a request. The correlation id goes to *corr (may be NULL) before the
 * endpoint runs. CQ_ENOENT if no request endpoint has that name (then cb is
 * not called). */
int cq_bus_request(cq_bus_t *bus, const char *endpoint, const void *req,
                   cq_response_fn cb, void *user, uint64_t *corr);

/* Answer request corr. CQ_ENOENT if corr is unknown or already answered. */
int cq_bus_respond(cq_bus_t *bus, uint64_t corr, int status, const void *resp);

/* Number of requests issued and not yet answered. */
size_t cq_bus_pending_requests(const cq_bus_t *bus);

void cq_bus_stats(const cq_bus_t *bus, cq_bus_stats_t *out);

/* Pattern matching as the bus does it ('*' any run, '?' one char); exposed
 * for tests and tools. Returns 1 on match, 0 otherwise; NULL, and strings
 * longer than CQ_BUS_TOPIC_MAX (which the bus never holds), never match. */
int cq_pattern_match(const char *pattern, const char *text);

#endif
