/* Instruction counts of the C hot paths under callgrind: N calls of
 * perf_histogram_record, perf_counter_increment, perf_gauge_set on handles,
 * and perf_record (lookup by name + 2 tags). */
#include <stdio.h>
#include <stdlib.h>
#include "perf_core.h"
#define N 200000
static void check(perf_status s, const char *w) { if (s != PERF_OK) { fprintf(stderr, "%s failed\n", w); exit(1); } }
__attribute__((noinline)) static void loop_record(perf_histogram *h) { for (int i = 0; i < N; i++) check(perf_histogram_record(h, (double)(i % 1000) + 0.5), "record"); }
__attribute__((noinline)) static void loop_counter(perf_counter *c) { for (int i = 0; i < N; i++) check(perf_counter_increment(c, 1), "inc"); }
__attribute__((noinline)) static void loop_gauge(perf_gauge *g) { for (int i = 0; i < N; i++) check(perf_gauge_set(g, (double)i), "set"); }
__attribute__((noinline)) static void loop_oneshot(perf_monitor *m, perf_tag *tags) { for (int i = 0; i < N; i++) check(perf_record(m, "lat", tags, 2, (double)(i % 1000) + 0.5), "perf_record"); }
int main(void) {
    perf_monitor *m; check(perf_monitor_new(&m), "new");
    perf_tag tags[2] = {{"route", "/api"}, {"method", "GET"}};
    perf_histogram *h; check(perf_histogram_get(m, "lat", tags, 2, &h), "h");
    perf_counter *c; check(perf_counter_get(m, "req", tags, 2, &c), "c");
    perf_gauge *g; check(perf_gauge_get(m, "inflight", tags, 2, &g), "g");
    loop_record(h); loop_counter(c); loop_gauge(g); loop_oneshot(m, tags);
    perf_histogram_free(h); perf_counter_free(c); perf_gauge_free(g); perf_monitor_free(m);
    return 0;
}
