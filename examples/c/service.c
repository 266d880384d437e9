/*
 * A small service instrumented with perf-core's C API: four worker threads
 * record request latencies (one histogram handle per route, looked up once)
 * and count requests; rules loaded from JSON watch the p95 latency; an
 * alert callback prints what fires; then the program prints per-route
 * statistics and the Prometheus exposition.
 *
 * Build: see the Makefile (pkg-config perf_core-static, or perf_core for the
 * shared library). Run: ./service
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "perf_core.h"

#define WORKERS 4
#define REQUESTS_PER_WORKER 5000

static const char *RULES_JSON =
    "{\"version\": 1, \"rules\": [{"
    "\"name\": \"slow-requests\", \"metric\": \"http.server.duration\", \"stat\": \"p95\", "
    "\"window\": \"60s\", \"levels\": ["
    "{\"severity\": \"warning\", \"threshold\": 250}, "
    "{\"severity\": \"critical\", \"threshold\": 2000}]}]}";

static const char *ROUTES[] = {"/api/users", "/api/search"};
#define ROUTE_COUNT 2

/* Exits with the library's message if a call failed. */
static void check(perf_status status, const char *what) {
    if (status != PERF_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, perf_status_name((int)status),
                perf_last_error_message());
        exit(1);
    }
}

typedef struct {
    perf_histogram *latency[ROUTE_COUNT];
    perf_counter *requests[ROUTE_COUNT];
    uint32_t seed;
} worker;

/* A simulated request latency in ms: /api/users is fast, /api/search has
 * a slow tail (1 request in 10 takes 300-700 ms). Deterministic. */
static double simulated_latency(worker *w, int route) {
    w->seed = w->seed * 1664525u + 1013904223u;
    double jitter = (double)(w->seed >> 8) / (double)(1u << 24); /* [0, 1) */
    if (route == 1 && (w->seed >> 4) % 10 == 0) {
        return 300.0 + 400.0 * jitter;
    }
    return 5.0 + 20.0 * jitter;
}

static void *serve(void *arg) {
    worker *w = arg;
    for (int i = 0; i < REQUESTS_PER_WORKER; i++) {
        for (int route = 0; route < ROUTE_COUNT; route++) {
            check(perf_histogram_record(w->latency[route], simulated_latency(w, route)), "record");
            check(perf_counter_increment(w->requests[route], 1), "count");
        }
    }
    return NULL;
}

/* Called on the thread that evaluates (here: main, in perf_evaluate). */
static void on_alert(const perf_alert_event *event, void *user_data) {
    static const char *kinds[] = {"fired",      "escalated", "deescalated", "recovered",
                                  "relapsed",   "resolved",  "repeated"};
    static const char *severities[] = {"none", "info", "warning", "error", "critical"};
    int *alerts = user_data;
    (*alerts)++;
    printf("ALERT %s %s %s on %s: p95 %.1f ms > %.0f ms\n", kinds[event->kind],
           severities[event->severity], event->rule, event->series, event->value,
           event->threshold);
}

int main(void) {
    perf_monitor *monitor = NULL;
    check(perf_monitor_new(&monitor), "perf_monitor_new");
    size_t rules = 0;
    check(perf_rules_load_json(monitor, RULES_JSON, &rules), "perf_rules_load_json");
    int alerts = 0;
    check(perf_alert_subscribe(monitor, on_alert, &alerts, NULL), "perf_alert_subscribe");

    worker workers[WORKERS];
    for (int t = 0; t < WORKERS; t++) {
        workers[t].seed = 42u + (uint32_t)t;
        for (int route = 0; route < ROUTE_COUNT; route++) {
            perf_tag tags[] = {{"route", ROUTES[route]}};
            check(perf_histogram_get(monitor, "http.server.duration", tags, 1,
                                     &workers[t].latency[route]),
                  "perf_histogram_get");
            check(perf_counter_get(monitor, "http.server.requests", tags, 1,
                                   &workers[t].requests[route]),
                  "perf_counter_get");
        }
    }
    pthread_t threads[WORKERS];
    for (int t = 0; t < WORKERS; t++) {
        if (pthread_create(&threads[t], NULL, serve, &workers[t]) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    for (int t = 0; t < WORKERS; t++) {
        pthread_join(threads[t], NULL);
    }

    size_t events = 0;
    check(perf_evaluate(monitor, &events), "perf_evaluate");
    printf("%zu rule(s) loaded, %zu notification(s)\n\n", rules, events);

    printf("%-12s %-14s %8s %8s %8s %8s\n", "route", "requests", "p50", "p95", "p99", "max");
    for (int route = 0; route < ROUTE_COUNT; route++) {
        perf_tag tags[] = {{"route", ROUTES[route]}};
        perf_stats stats = PERF_STATS_INIT;
        check(perf_stats_get(monitor, "http.server.duration", tags, 1, &stats), "perf_stats_get");
        printf("%-12s requests=%-5llu %8.1f %8.1f %8.1f %8.1f\n", ROUTES[route],
               (unsigned long long)stats.count, stats.p50, stats.p95, stats.p99, stats.max);
    }

    char *exposition = NULL;
    check(perf_export_prometheus(monitor, &exposition), "perf_export_prometheus");
    printf("\n%s", exposition);
    perf_string_free(exposition);

    for (int t = 0; t < WORKERS; t++) {
        for (int route = 0; route < ROUTE_COUNT; route++) {
            perf_histogram_free(workers[t].latency[route]);
            perf_counter_free(workers[t].requests[route]);
        }
    }
    perf_monitor_free(monitor);
    return alerts > 0 ? 0 : 1;
}
