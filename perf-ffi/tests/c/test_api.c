/*
 * Tests of every function of the perf-core C API and of every status a C
 * caller can get: NULL handles and out-pointers, invalid UTF-8, NaN, bad
 * names and tags, bad JSON, unknown series and alerts, limits, windows,
 * baselines, policies, I/O, HdrHistogram strings. Built against the static
 * and the shared library and run under valgrind by scripts/test-c.sh.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define SEC 1000000000ULL
#define START_NANOS (1700000000ULL * SEC)

static const char BAD_UTF8[] = "caf\xe9";

/* A monitor on a manual clock standing at START_NANOS. */
/* Callbacks run on the monitor's notification thread: wait for them. */
#define CHECK_DELIVERED(monitor)                                                \
    do {                                                                       \
        bool all_delivered_ = false;                                           \
        CHECK_OK(perf_monitor_flush_notifications((monitor), 10000, &all_delivered_)); \
        CHECK(all_delivered_);                                                 \
    } while (0)

static perf_monitor *manual_monitor(perf_clock_manual **clock) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_clock_manual_new(START_NANOS, clock));
    perf_monitor_options options = {.struct_size = sizeof(perf_monitor_options), .clock = *clock};
    CHECK_OK(perf_monitor_new_with_options(&options, &monitor));
    return monitor;
}

/* Whether `text` contains `part`; frees `text`. */
static bool contains_and_free(char *text, const char *part) {
    bool found = text != NULL && strstr(text, part) != NULL;
    if (!found) {
        fprintf(stderr, "expected \"%s\" in:\n%s\n", part, text ? text : "(null)");
    }
    perf_string_free(text);
    return found;
}

/* ---- statuses, messages, version ---------------------------------------- */

static void test_version_and_status_names(void) {
    const char *version = perf_version();
    CHECK(version != NULL && strchr(version, '.') != NULL);
    CHECK(strcmp(perf_status_name(PERF_OK), "PERF_OK") == 0);
    CHECK(strcmp(perf_status_name(PERF_ERR_INVALID_VALUE), "PERF_ERR_INVALID_VALUE") == 0);
    CHECK(strcmp(perf_status_name(PERF_ERR_PANIC), "PERF_ERR_PANIC") == 0);
    CHECK(strcmp(perf_status_name(PERF_ERR_UNKNOWN), "PERF_ERR_UNKNOWN") == 0);
    CHECK(strcmp(perf_status_name(-1), "PERF_ERR_?") == 0);
    CHECK(strcmp(perf_status_name(PERF_ERR_INVALID_ARGUMENT + 1), "PERF_ERR_?") == 0);
    for (int s = 0; s < STATUS_COUNT; s++) {
        CHECK(strncmp(perf_status_name(s), "PERF_", 5) == 0);
    }
}

/* The header's compile-time version is the library's run-time one. */
#if PERF_CORE_VERSION_NUMBER != \
    PERF_CORE_VERSION_MAJOR * 10000 + PERF_CORE_VERSION_MINOR * 100 + PERF_CORE_VERSION_PATCH
#error "PERF_CORE_VERSION_NUMBER disagrees with its parts"
#endif

static void test_compile_time_and_run_time_versions_agree(void) {
    CHECK(strcmp(perf_version(), PERF_CORE_VERSION) == 0);
    CHECK(perf_version_number() == PERF_CORE_VERSION_NUMBER);
    char parts[32];
    snprintf(parts, sizeof parts, "%d.%d.%d", PERF_CORE_VERSION_MAJOR, PERF_CORE_VERSION_MINOR,
             PERF_CORE_VERSION_PATCH);
    CHECK(strcmp(parts, PERF_CORE_VERSION) == 0);
}

static void *fail_in_thread(void *arg) {
    (void)arg;
    perf_histogram_record(NULL, 1.0);
    return strstr(perf_last_error_message(), "histogram is NULL") ? (void *)1 : NULL;
}

static void test_last_error_is_per_thread(void) {
    CHECK_STATUS(perf_monitor_new(NULL), PERF_ERR_NULL_POINTER);
    CHECK(strcmp(perf_last_error_message(), "out is NULL") == 0);
    pthread_t thread;
    void *ok = NULL;
    CHECK(pthread_create(&thread, NULL, fail_in_thread, NULL) == 0);
    CHECK(pthread_join(thread, &ok) == 0);
    CHECK(ok == (void *)1);
    CHECK(strcmp(perf_last_error_message(), "out is NULL") == 0);
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    CHECK(strcmp(perf_last_error_message(), "out is NULL") == 0); /* success keeps it */
    perf_monitor_free(monitor);
}

/* ---- monitor and clock --------------------------------------------------- */

static void test_monitor_options(void) {
    perf_monitor *monitor = NULL;
    perf_monitor_options defaults = PERF_MONITOR_OPTIONS_INIT;
    CHECK_OK(perf_monitor_new_with_options(&defaults, &monitor));
    uint64_t now = 0;
    CHECK_OK(perf_monitor_now(monitor, &now));
    CHECK(now > START_NANOS); /* the system clock */
    perf_monitor_free(monitor);
    perf_monitor_free(NULL);

    perf_monitor *untouched = (perf_monitor *)&defaults;
    perf_monitor_options bad = {.struct_size = sizeof(perf_monitor_options), .precision_bits = 11};
    CHECK_STATUS(perf_monitor_new_with_options(&bad, &untouched), PERF_ERR_INVALID_CONFIG);
    CHECK(untouched == (perf_monitor *)&defaults); /* written only on PERF_OK */
    perf_monitor_options bad_window = {.struct_size = sizeof(perf_monitor_options), .window_interval_ms = 10000, .window_retention_ms = 1000};
    CHECK_STATUS(perf_monitor_new_with_options(&bad_window, &monitor), PERF_ERR_INVALID_CONFIG);
    CHECK_STATUS(perf_monitor_new_with_options(NULL, &monitor), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("options is NULL");
    CHECK_STATUS(perf_monitor_new_with_options(&defaults, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_monitor_now(NULL, &now), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_monitor_now(monitor, NULL), PERF_ERR_NULL_POINTER);
}

static void test_manual_clock(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    uint64_t now = 0;
    CHECK_OK(perf_clock_manual_now(clock, &now));
    CHECK(now == START_NANOS);
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1500));
    CHECK_OK(perf_monitor_now(monitor, &now));
    CHECK(now == START_NANOS + 1500000000ULL);
    CHECK_OK(perf_clock_manual_set(clock, START_NANOS)); /* the past: ignored */
    CHECK_OK(perf_clock_manual_now(clock, &now));
    CHECK(now == START_NANOS + 1500000000ULL);
    CHECK_OK(perf_clock_manual_set(clock, START_NANOS + 10 * SEC));
    perf_clock_manual_free(clock); /* the monitor keeps its reference */
    CHECK_OK(perf_monitor_now(monitor, &now));
    CHECK(now == START_NANOS + 10 * SEC);
    perf_monitor_free(monitor);
    perf_clock_manual_free(NULL);

    CHECK_STATUS(perf_clock_manual_new(0, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_clock_manual_advance_ms(NULL, 1), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_clock_manual_set(NULL, 1), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_clock_manual_now(NULL, &now), PERF_ERR_NULL_POINTER);
    CHECK_OK(perf_clock_manual_new(0, &clock));
    CHECK_STATUS(perf_clock_manual_now(clock, NULL), PERF_ERR_NULL_POINTER);
    perf_clock_manual_free(clock);
}

/* ---- recording ------------------------------------------------------------ */

static void test_histogram_handle(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    perf_tag tags[] = {{"route", "/users"}, {"method", "GET"}};
    perf_histogram *h = NULL;
    CHECK_OK(perf_histogram_get(monitor, "http.server.duration", tags, 2, &h));
    for (int v = 1; v <= 1000; v++) {
        CHECK_OK(perf_histogram_record(h, (double)v));
    }
    CHECK_OK(perf_histogram_record_n(h, 5.0, 10));
    CHECK_OK(perf_histogram_record_n(h, 5.0, 0));
    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_histogram_stats(h, &stats));
    CHECK(stats.count == 1010);
    CHECK(stats.sum == 500500.0 + 50.0);
    CHECK(stats.min == 1.0 && stats.max == 1000.0);
    CHECK_NEAR(stats.p99, 990.0, 0.0039);
    CHECK_NEAR(stats.p50, 496.0, 0.0039);
    CHECK(stats.rejected == 0);

    /* NaN, infinities, negatives: refused, counted, never in the stats. */
    CHECK_STATUS(perf_histogram_record(h, NAN), PERF_ERR_INVALID_VALUE);
    CHECK_MESSAGE("NaN");
    CHECK_STATUS(perf_histogram_record(h, INFINITY), PERF_ERR_INVALID_VALUE);
    CHECK_STATUS(perf_histogram_record(h, -1.0), PERF_ERR_INVALID_VALUE);
    CHECK_STATUS(perf_histogram_record(h, 1e20), PERF_ERR_INVALID_VALUE);
    CHECK_STATUS(perf_histogram_record_n(h, NAN, 3), PERF_ERR_INVALID_VALUE);
    CHECK_OK(perf_histogram_stats(h, &stats));
    CHECK(stats.count == 1010 && stats.rejected == 7);

    /* The same series through the monitor, tags in another order. */
    perf_tag swapped[] = {{"method", "GET"}, {"route", "/users"}};
    perf_stats same = PERF_STATS_INIT;
    CHECK_OK(perf_stats_get(monitor, "http.server.duration", swapped, 2, &same));
    CHECK(same.count == stats.count && same.sum == stats.sum && same.rejected == 7);

    CHECK_STATUS(perf_histogram_record(NULL, 1.0), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_histogram_record_n(NULL, 1.0, 1), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_histogram_stats(NULL, &stats), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_histogram_stats(h, NULL), PERF_ERR_NULL_POINTER);
    perf_histogram_free(h);
    perf_histogram_free(NULL);
    perf_monitor_free(monitor);
}

static void test_series_identity_errors(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    perf_histogram *h = NULL;
    CHECK_STATUS(perf_histogram_get(monitor, "", NULL, 0, &h), PERF_ERR_INVALID_NAME);
    CHECK_STATUS(perf_histogram_get(monitor, "9lives", NULL, 0, &h), PERF_ERR_INVALID_NAME);
    CHECK(h == NULL);
    perf_tag bad_key[] = {{"1route", "/"}};
    CHECK_STATUS(perf_histogram_get(monitor, "lat", bad_key, 1, &h), PERF_ERR_INVALID_TAG);
    perf_tag empty_value[] = {{"route", ""}};
    CHECK_STATUS(perf_record(monitor, "lat", empty_value, 1, 1.0), PERF_ERR_INVALID_TAG);
    CHECK_STATUS(perf_histogram_get(monitor, BAD_UTF8, NULL, 0, &h), PERF_ERR_INVALID_UTF8);
    CHECK_MESSAGE("name is not valid UTF-8");
    /* A 1 MiB name: the message quotes a short prefix, not the input. */
    size_t huge_len = 1 << 20;
    char *huge = malloc(huge_len + 1);
    CHECK(huge != NULL);
    memset(huge, 'a', huge_len);
    huge[0] = '9'; /* invalid: starts with a digit */
    huge[huge_len] = '\0';
    CHECK_STATUS(perf_histogram_get(monitor, huge, NULL, 0, &h), PERF_ERR_INVALID_NAME);
    CHECK(strlen(perf_last_error_message()) < 300);
    CHECK_MESSAGE("1048576 bytes in all");
    free(huge);
    perf_tag bad_value[] = {{"route", BAD_UTF8}};
    CHECK_STATUS(perf_record(monitor, "lat", bad_value, 1, 1.0), PERF_ERR_INVALID_UTF8);
    CHECK_MESSAGE("tags[0].value");
    perf_tag null_key[] = {{NULL, "x"}};
    CHECK_STATUS(perf_record(monitor, "lat", null_key, 1, 1.0), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("tags[0].key is NULL");
    CHECK_STATUS(perf_record(monitor, "lat", NULL, 1, 1.0), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_record(monitor, NULL, NULL, 0, 1.0), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_histogram_get(monitor, "lat", NULL, 0, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_histogram_get(NULL, "lat", NULL, 0, &h), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_record(NULL, "lat", NULL, 0, 1.0), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_record(monitor, "lat", NULL, 0, NAN), PERF_ERR_INVALID_VALUE);

    /* Nothing of that was recorded. */
    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_stats_get(monitor, "lat", NULL, 0, &stats));
    CHECK(stats.count == 0 && stats.rejected == 1 && isnan(stats.p50) && isnan(stats.mean));
    perf_monitor_free(monitor);
}

static void test_one_shot_record(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    perf_tag tags[] = {{"route", "/login"}};
    CHECK_OK(perf_record(monitor, "api.response_time", tags, 1, 87.0));
    CHECK_OK(perf_record(monitor, "api.response_time", tags, 1, 120.0));
    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_stats_get(monitor, "api.response_time", tags, 1, &stats));
    CHECK(stats.count == 2 && stats.min == 87.0 && stats.max == 120.0 && stats.sum == 207.0);
    CHECK(stats.mean == 103.5);
    perf_monitor_free(monitor);
}

static void test_export_by_format_name(void) {
    perf_clock_manual *clock = NULL; /* CSV rows carry the time: keep it still */
    perf_monitor *monitor = manual_monitor(&clock);
    CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 12.0));
    const char *names[] = {"prometheus", "openmetrics", "json", "csv"};
    const char *types[] = {"text/plain; version=0.0.4; charset=utf-8",
                           "application/openmetrics-text; version=1.0.0; charset=utf-8",
                           "application/json", "text/csv; charset=utf-8"};
    for (int i = 0; i < 4; i++) {
        char *text = NULL, *type = NULL;
        CHECK_OK(perf_export(monitor, names[i], &text, &type));
        CHECK(text != NULL && strstr(text, "api") != NULL);
        CHECK(type != NULL && strcmp(type, types[i]) == 0);
        perf_string_free(text);
        perf_string_free(type);
    }
    char *csv = NULL, *direct = NULL;
    CHECK_OK(perf_export(monitor, "csv", &csv, NULL));
    CHECK_OK(perf_export_csv(monitor, &direct));
    CHECK(strcmp(csv, direct) == 0);
    perf_string_free(csv);
    perf_string_free(direct);
    char *text = NULL;
    CHECK_STATUS(perf_export(monitor, "xml", &text, NULL), PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("unknown export format");
    CHECK_STATUS(perf_export(monitor, NULL, &text, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export(monitor, "csv", NULL, NULL), PERF_ERR_NULL_POINTER);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

static void test_counts_saturate(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    perf_counter *c = NULL;
    CHECK_OK(perf_counter_get(monitor, "bytes", NULL, 0, &c));
    CHECK_OK(perf_counter_increment(c, UINT64_MAX - 1));
    CHECK_OK(perf_counter_increment(c, 5));
    uint64_t value = 0;
    CHECK_OK(perf_counter_value(c, &value));
    CHECK(value == UINT64_MAX);
    perf_counter_free(c);
    perf_histogram *h = NULL;
    CHECK_OK(perf_histogram_get(monitor, "bulk", NULL, 0, &h));
    CHECK_OK(perf_histogram_record_n(h, 1.0, UINT64_MAX));
    CHECK_OK(perf_histogram_record_n(h, 1.0, 2));
    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_stats_get(monitor, "bulk", NULL, 0, &stats));
    CHECK(stats.count == UINT64_MAX);
    perf_histogram_free(h);
    perf_monitor_free(monitor);
}

static void test_counters_and_gauges(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    perf_counter *requests = NULL;
    CHECK_OK(perf_counter_get(monitor, "requests", NULL, 0, &requests));
    for (int i = 0; i < 10; i++) {
        CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
        CHECK_OK(perf_counter_increment(requests, 30));
    }
    uint64_t total = 0;
    CHECK_OK(perf_counter_value(requests, &total));
    CHECK(total == 300);
    double rate = 0;
    CHECK_OK(perf_counter_rate(monitor, "requests", NULL, 0, 10000, &rate));
    CHECK(rate == 30.0);

    perf_gauge *depth = NULL;
    perf_tag tags[] = {{"queue", "mail"}};
    CHECK_OK(perf_gauge_get(monitor, "queue.depth", tags, 1, &depth));
    CHECK_OK(perf_gauge_set(depth, 12.5));
    CHECK_OK(perf_gauge_add(depth, -20.0));
    double value = 0;
    CHECK_OK(perf_gauge_value(depth, &value));
    CHECK(value == -7.5);
    CHECK_STATUS(perf_gauge_set(depth, NAN), PERF_ERR_INVALID_VALUE);
    CHECK_STATUS(perf_gauge_add(depth, INFINITY), PERF_ERR_INVALID_VALUE);
    CHECK_STATUS(perf_gauge_set(depth, -INFINITY), PERF_ERR_INVALID_VALUE);
    CHECK_OK(perf_gauge_value(depth, &value));
    CHECK(value == -7.5);

    /* One name, one kind. */
    perf_histogram *h = NULL;
    CHECK_STATUS(perf_histogram_get(monitor, "requests", NULL, 0, &h), PERF_ERR_KIND_MISMATCH);
    CHECK_MESSAGE("is a counter, not a histogram");
    CHECK_STATUS(perf_gauge_get(monitor, "requests", NULL, 0, &depth), PERF_ERR_KIND_MISMATCH);
    perf_counter *c = NULL;
    CHECK_STATUS(perf_counter_get(monitor, "queue.depth", tags, 1, &c), PERF_ERR_KIND_MISMATCH);
    perf_stats stats = PERF_STATS_INIT;
    CHECK_STATUS(perf_stats_get(monitor, "requests", NULL, 0, &stats), PERF_ERR_KIND_MISMATCH);
    CHECK_STATUS(perf_counter_rate(monitor, "queue.depth", tags, 1, 1000, &rate),
                 PERF_ERR_KIND_MISMATCH);
    CHECK_STATUS(perf_counter_rate(monitor, "nothing", NULL, 0, 1000, &rate),
                 PERF_ERR_UNKNOWN_SERIES);
    CHECK_STATUS(perf_counter_rate(monitor, "requests", NULL, 0, 0, &rate), PERF_ERR_INVALID_WINDOW);
    CHECK_STATUS(perf_counter_rate(monitor, "requests", NULL, 0, 1000, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_counter_rate(NULL, "requests", NULL, 0, 1000, &rate), PERF_ERR_NULL_POINTER);

    CHECK_STATUS(perf_counter_get(NULL, "c", NULL, 0, &c), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_counter_get(monitor, "c", NULL, 0, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_counter_get(monitor, BAD_UTF8, NULL, 0, &c), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_counter_increment(NULL, 1), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_counter_value(NULL, &total), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_counter_value(requests, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_gauge_get(NULL, "g", NULL, 0, &depth), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_gauge_get(monitor, "", NULL, 0, &depth), PERF_ERR_INVALID_NAME);
    CHECK_STATUS(perf_gauge_set(NULL, 1.0), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_gauge_add(NULL, 1.0), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_gauge_value(NULL, &value), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_gauge_value(depth, NULL), PERF_ERR_NULL_POINTER);
    perf_counter_free(requests);
    perf_counter_free(NULL);
    perf_gauge_free(depth);
    perf_gauge_free(NULL);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

/* ---- statistics -------------------------------------------------------------- */

static void test_window_stats_and_percentiles(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    CHECK_OK(perf_record(monitor, "q", NULL, 0, 10.0));
    CHECK_OK(perf_clock_manual_advance_ms(clock, 30000));
    CHECK_OK(perf_record(monitor, "q", NULL, 0, 20.0));
    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_window_stats(monitor, "q", NULL, 0, 10000, &stats));
    CHECK(stats.count == 1);
    CHECK_NEAR(stats.max, 20.0, 0.0039);
    CHECK_OK(perf_stats_get(monitor, "q", NULL, 0, &stats));
    CHECK(stats.count == 2 && stats.sum == 30.0);

    for (int v = 1; v <= 1000; v++) {
        CHECK_OK(perf_record(monitor, "db.query", NULL, 0, (double)v));
    }
    double p = 0;
    CHECK_OK(perf_percentile(monitor, "db.query", NULL, 0, 12.5, 0, &p));
    CHECK_NEAR(p, 125.0, 0.0039);
    CHECK_OK(perf_percentile(monitor, "db.query", NULL, 0, 99.9, 60000, &p));
    CHECK_NEAR(p, 999.0, 0.0039);
    CHECK_OK(perf_percentile(monitor, "db.query", NULL, 0, 0.0, 0, &p));
    CHECK(p == 1.0);

    CHECK_STATUS(perf_percentile(monitor, "db.query", NULL, 0, 101.0, 0, &p),
                 PERF_ERR_INVALID_PERCENTILE);
    CHECK_STATUS(perf_percentile(monitor, "db.query", NULL, 0, NAN, 0, &p),
                 PERF_ERR_INVALID_PERCENTILE);
    CHECK_STATUS(perf_percentile(monitor, "db.query", NULL, 0, -1.0, 0, &p),
                 PERF_ERR_INVALID_PERCENTILE);
    CHECK_STATUS(perf_window_stats(monitor, "q", NULL, 0, 0, &stats), PERF_ERR_INVALID_WINDOW);
    CHECK_STATUS(perf_window_stats(monitor, "q", NULL, 0, 301000, &stats),
                 PERF_ERR_INVALID_WINDOW);
    CHECK_STATUS(perf_stats_get(monitor, "nope", NULL, 0, &stats), PERF_ERR_UNKNOWN_SERIES);
    CHECK_MESSAGE("no series nope");
    CHECK_STATUS(perf_window_stats(monitor, "nope", NULL, 0, 1000, &stats),
                 PERF_ERR_UNKNOWN_SERIES);
    CHECK_STATUS(perf_percentile(monitor, "nope", NULL, 0, 50.0, 0, &p), PERF_ERR_UNKNOWN_SERIES);
    CHECK_STATUS(perf_stats_get(NULL, "q", NULL, 0, &stats), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_stats_get(monitor, "q", NULL, 0, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_stats_get(monitor, BAD_UTF8, NULL, 0, &stats), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_window_stats(NULL, "q", NULL, 0, 1000, &stats), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_window_stats(monitor, "q", NULL, 0, 1000, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_percentile(NULL, "q", NULL, 0, 50.0, 0, &p), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_percentile(monitor, "q", NULL, 0, 50.0, 0, NULL), PERF_ERR_NULL_POINTER);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);

    /* Without windows. */
    perf_monitor_options no_windows = {.struct_size = sizeof(perf_monitor_options), .disable_windows = true};
    CHECK_OK(perf_monitor_new_with_options(&no_windows, &monitor));
    CHECK_OK(perf_record(monitor, "q", NULL, 0, 1.0));
    CHECK_STATUS(perf_window_stats(monitor, "q", NULL, 0, 1000, &stats),
                 PERF_ERR_WINDOWS_DISABLED);
    CHECK_STATUS(perf_percentile(monitor, "q", NULL, 0, 50.0, 1000, &p), PERF_ERR_WINDOWS_DISABLED);
    CHECK_OK(perf_percentile(monitor, "q", NULL, 0, 50.0, 0, &p));
    CHECK(p == 1.0);
    perf_monitor_free(monitor);
}

static void test_metric_limit(void) {
    perf_monitor *monitor = NULL;
    perf_monitor_options options = {.struct_size = sizeof(perf_monitor_options), .max_metrics = 1, .max_series_per_metric = 1};
    CHECK_OK(perf_monitor_new_with_options(&options, &monitor));
    CHECK_OK(perf_record(monitor, "first", NULL, 0, 1.0));
    CHECK_STATUS(perf_record(monitor, "second", NULL, 0, 1.0), PERF_ERR_LIMIT);
    CHECK_MESSAGE("too many metric names");
    /* Past the series cap, records fold into the overflow series. */
    perf_tag a[] = {{"k", "a"}};
    CHECK_OK(perf_record(monitor, "first", a, 1, 2.0));
    char *text = NULL;
    CHECK_OK(perf_export_prometheus(monitor, &text));
    CHECK(contains_and_free(text, "perf_overflow"));
    perf_monitor_free(monitor);
}

/* ---- rules, alerts, budgets ------------------------------------------------ */

#define MAX_EVENTS 32

typedef struct {
    int count;
    perf_alert_kind kinds[MAX_EVENTS];
    perf_severity severities[MAX_EVENTS];
    perf_severity previous[MAX_EVENTS];
    uint64_t ids[MAX_EVENTS];
    double values[MAX_EVENTS];
    double thresholds[MAX_EVENTS];
    uint64_t at[MAX_EVENTS];
    char rules[MAX_EVENTS][32];
    char metrics[MAX_EVENTS][32];
    char series[MAX_EVENTS][64];
    size_t event_size; /* struct_size of the last event */
} alert_log;

static void log_alert(const perf_alert_event *e, void *user_data) {
    alert_log *log = user_data;
    log->event_size = e->struct_size;
    if (log->count < MAX_EVENTS) {
        int i = log->count;
        log->kinds[i] = e->kind;
        log->severities[i] = e->severity;
        log->previous[i] = e->previous_severity;
        log->ids[i] = e->id;
        log->values[i] = e->value;
        log->thresholds[i] = e->threshold;
        log->at[i] = e->at_unix_nanos;
        snprintf(log->rules[i], sizeof log->rules[i], "%s", e->rule);
        snprintf(log->metrics[i], sizeof log->metrics[i], "%s", e->metric);
        snprintf(log->series[i], sizeof log->series[i], "%s", e->series);
    }
    log->count++;
}

static const char *SLOW_RULES =
    "{\"version\": 1, \"rules\": [{\"name\": \"slow\", \"metric\": \"api.latency\", "
    "\"stat\": \"p95\", \"window\": \"60s\", \"levels\": ["
    "{\"severity\": \"warning\", \"threshold\": 100}, "
    "{\"severity\": \"critical\", \"threshold\": 1000}]}]}";

static void test_rules_evaluation_and_alerts(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    size_t added = 0;
    CHECK_OK(perf_rules_load_json(monitor, SLOW_RULES, &added));
    CHECK(added == 1);
    alert_log log = {0};
    uint64_t subscription = 0;
    CHECK_OK(perf_alert_subscribe(monitor, log_alert, &log, &subscription));

    size_t events = 99;
    CHECK_OK(perf_evaluate(monitor, &events));
    CHECK_DELIVERED(monitor);
    CHECK(events == 0 && log.count == 0);

    perf_tag tags[] = {{"route", "/a"}};
    for (int i = 0; i < 50; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", tags, 1, 500.0));
    }
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
    CHECK_OK(perf_evaluate(monitor, &events));
    CHECK_DELIVERED(monitor);
    CHECK(events == 1 && log.count == 1);
    CHECK(log.event_size == sizeof(perf_alert_event)); /* the library's, as this header's */
    CHECK(log.kinds[0] == PERF_ALERT_FIRED);
    CHECK(log.severities[0] == PERF_SEVERITY_WARNING);
    CHECK(log.previous[0] == PERF_SEVERITY_NONE);
    CHECK(strcmp(log.rules[0], "slow") == 0);
    CHECK(strcmp(log.metrics[0], "api.latency") == 0);
    CHECK(strcmp(log.series[0], "api.latency{route=\"/a\"}") == 0);
    CHECK_NEAR(log.values[0], 500.0, 0.0039);
    CHECK(log.thresholds[0] == 100.0);
    CHECK(log.at[0] == START_NANOS + SEC);

    /* Active alerts, acknowledgement. */
    perf_alert *alerts = NULL;
    size_t n = 0;
    CHECK_OK(perf_alerts_active(monitor, &alerts, &n));
    CHECK(n == 1);
    if (n == 1) {
        CHECK(alerts[0].id == log.ids[0]);
        CHECK(strcmp(alerts[0].rule, "slow") == 0);
        CHECK(strcmp(alerts[0].metric, "api.latency") == 0);
        CHECK(strcmp(alerts[0].series, "api.latency{route=\"/a\"}") == 0);
        CHECK(alerts[0].severity == PERF_SEVERITY_WARNING);
        CHECK(alerts[0].state == PERF_ALERT_STATE_FIRING);
        CHECK(alerts[0].threshold == 100.0);
        CHECK(alerts[0].fired_at_unix_nanos == START_NANOS + SEC);
        CHECK(!alerts[0].acknowledged && !alerts[0].inhibited);
        CHECK_NEAR(alerts[0].value, 500.0, 0.0039);
    }
    perf_alerts_free(alerts, n);
    CHECK_OK(perf_alert_acknowledge(monitor, log.ids[0]));
    CHECK_OK(perf_alerts_active(monitor, &alerts, &n));
    CHECK(n == 1 && alerts[0].acknowledged);
    perf_alerts_free(alerts, n);
    CHECK_STATUS(perf_alert_acknowledge(monitor, 987654321), PERF_ERR_UNKNOWN_ALERT);
    CHECK_MESSAGE("no active alert with id 987654321");

    /* Escalation, then recovery once the slow values leave the window. */
    for (int i = 0; i < 200; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", tags, 1, 5000.0));
    }
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
    CHECK_OK(perf_evaluate(monitor, NULL));
    CHECK_DELIVERED(monitor);
    CHECK(log.count == 2);
    CHECK(log.kinds[1] == PERF_ALERT_ESCALATED);
    CHECK(log.severities[1] == PERF_SEVERITY_CRITICAL);
    CHECK(log.previous[1] == PERF_SEVERITY_WARNING);
    CHECK_OK(perf_clock_manual_advance_ms(clock, 61000));
    for (int i = 0; i < 50; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", tags, 1, 10.0));
    }
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
    CHECK_OK(perf_evaluate(monitor, NULL));
    CHECK_DELIVERED(monitor);
    CHECK(log.count >= 3);
    CHECK(log.kinds[log.count - 1] == PERF_ALERT_RESOLVED);
    CHECK_OK(perf_alerts_active(monitor, &alerts, &n));
    CHECK(n == 0 && alerts == NULL);
    perf_alerts_free(alerts, n);
    perf_alerts_free(NULL, 0);

    /* Unsubscribed: no more calls. */
    bool existed = false;
    CHECK_OK(perf_alert_unsubscribe(monitor, subscription, &existed));
    CHECK(existed);
    CHECK_OK(perf_alert_unsubscribe(monitor, subscription, &existed));
    CHECK(!existed);
    CHECK_OK(perf_alert_unsubscribe(monitor, subscription, NULL));
    int before = log.count;
    for (int i = 0; i < 50; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", tags, 1, 500.0));
    }
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
    CHECK_OK(perf_evaluate(monitor, &events));
    CHECK_DELIVERED(monitor);
    CHECK(events == 1 && log.count == before);

    /* The document round-trips; names are unique. */
    char *json = NULL;
    CHECK_OK(perf_rules_json(monitor, &json));
    perf_monitor *copy = NULL;
    CHECK_OK(perf_monitor_new(&copy));
    CHECK_OK(perf_rules_load_json(copy, json, &added));
    CHECK(added == 1);
    perf_string_free(json);
    perf_monitor_free(copy);
    CHECK_STATUS(perf_rules_load_json(monitor, SLOW_RULES, &added), PERF_ERR_DUPLICATE_RULE);
    CHECK_MESSAGE("\"slow\" already exists");

    CHECK_OK(perf_rule_remove(monitor, "slow", &existed));
    CHECK(existed);
    CHECK_OK(perf_rule_remove(monitor, "slow", &existed));
    CHECK(!existed);
    CHECK_OK(perf_rule_remove(monitor, "slow", NULL));

    CHECK_STATUS(perf_alert_subscribe(NULL, log_alert, &log, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_alert_subscribe(monitor, NULL, &log, NULL), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("callback is NULL");
    CHECK_STATUS(perf_alert_unsubscribe(NULL, 1, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_alert_acknowledge(NULL, 1), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_alerts_active(NULL, &alerts, &n), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_alerts_active(monitor, NULL, &n), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_alerts_active(monitor, &alerts, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_evaluate(NULL, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_rules_json(NULL, &json), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_rules_json(monitor, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_rule_remove(NULL, "x", NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_rule_remove(monitor, NULL, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_rule_remove(monitor, BAD_UTF8, NULL), PERF_ERR_INVALID_UTF8);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

static void test_rules_json_errors(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    size_t added = 77;
    CHECK_STATUS(perf_rules_load_json(monitor, "{", &added), PERF_ERR_INVALID_JSON);
    CHECK(added == 77);
    CHECK_STATUS(perf_rules_load_json(monitor,
                                      "{\"version\": 1, \"rules\": [{\"name\": \"r\", \"metric\": "
                                      "\"m\", \"stat\": \"p95\", \"threshold\": 1, \"for\": \"soon\"}]}",
                                      &added),
                 PERF_ERR_INVALID_JSON);
    CHECK_MESSAGE("rules[0].for");
    CHECK_STATUS(perf_rules_load_json(monitor, "{\"version\": 2}", NULL), PERF_ERR_INVALID_JSON);
    CHECK_STATUS(perf_rules_load_json(monitor, BAD_UTF8, NULL), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_rules_load_json(monitor, NULL, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_rules_load_json(NULL, SLOW_RULES, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_rules_load_file(monitor, "/no/such/rules.json", NULL), PERF_ERR_INVALID_JSON);
    CHECK_MESSAGE("cannot read /no/such/rules.json");
    CHECK_STATUS(perf_rules_load_file(monitor, NULL, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_rules_load_file(monitor, BAD_UTF8, NULL), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_rules_load_file(NULL, "/x", NULL), PERF_ERR_NULL_POINTER);

    /* A file that loads. */
    char dir[] = "/tmp/perf-ffi-rules-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/rules.json", dir);
    FILE *file = fopen(path, "w");
    CHECK(file != NULL);
    if (file) {
        fputs(SLOW_RULES, file);
        fclose(file);
    }
    CHECK_OK(perf_rules_load_file(monitor, path, &added));
    CHECK(added == 1);
    remove(path);
    rmdir(dir);
    perf_monitor_free(monitor);

    /* Windowed rules need windows. */
    perf_monitor_options no_windows = {.struct_size = sizeof(perf_monitor_options), .disable_windows = true};
    CHECK_OK(perf_monitor_new_with_options(&no_windows, &monitor));
    CHECK_STATUS(perf_rules_load_json(monitor, SLOW_RULES, NULL), PERF_ERR_WINDOWS_DISABLED);
    perf_monitor_free(monitor);
}

static void test_budgets(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    size_t added = 0;
    CHECK_OK(perf_rules_load_json(
        monitor,
        "{\"version\": 1, \"budgets\": [{\"name\": \"checkout\", \"metric\": \"api.latency\", "
        "\"limits\": {\"p50\": 100, \"p95\": 300, \"p99\": 800}}]}",
        &added));
    CHECK(added == 1);
    char *text = NULL;
    perf_rating worst = PERF_RATING_POOR;
    CHECK_OK(perf_budget_report(monitor, &text, &worst));
    CHECK(worst == PERF_RATING_NONE);
    CHECK(contains_and_free(text, "checkout"));
    for (int i = 0; i < 100; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 50.0));
    }
    CHECK_OK(perf_budget_report(monitor, &text, &worst));
    CHECK(worst == PERF_RATING_GOOD);
    CHECK(contains_and_free(text, "good"));
    for (int i = 0; i < 300; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 250.0));
    }
    CHECK_OK(perf_budget_report(monitor, &text, NULL));
    perf_string_free(text);
    CHECK_OK(perf_budget_report(monitor, &text, &worst));
    CHECK(worst == PERF_RATING_NEEDS_IMPROVEMENT || worst == PERF_RATING_POOR);
    perf_string_free(text);
    for (int i = 0; i < 1000; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 5000.0));
    }
    CHECK_OK(perf_budget_report(monitor, &text, &worst));
    CHECK(worst == PERF_RATING_POOR);
    CHECK(contains_and_free(text, "poor"));

    bool existed = false;
    CHECK_OK(perf_budget_remove(monitor, "checkout", &existed));
    CHECK(existed);
    CHECK_OK(perf_budget_remove(monitor, "checkout", NULL));
    CHECK_OK(perf_budget_remove(monitor, "checkout", &existed));
    CHECK(!existed);
    CHECK_STATUS(perf_budget_remove(NULL, "x", NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_budget_remove(monitor, BAD_UTF8, NULL), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_budget_report(NULL, &text, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_budget_report(monitor, NULL, NULL), PERF_ERR_NULL_POINTER);
    perf_monitor_free(monitor);
}

/* ---- the background evaluator ------------------------------------------------ */

typedef struct {
    pthread_mutex_t lock;
    int calls;
    pthread_t thread;
} thread_log;

static void log_thread(const perf_alert_event *e, void *user_data) {
    (void)e;
    thread_log *log = user_data;
    pthread_mutex_lock(&log->lock);
    log->calls++;
    log->thread = pthread_self();
    pthread_mutex_unlock(&log->lock);
}

static void test_background_evaluator(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    CHECK_OK(perf_rules_load_json(monitor, SLOW_RULES, NULL));
    thread_log log = {.lock = PTHREAD_MUTEX_INITIALIZER};
    CHECK_OK(perf_alert_subscribe(monitor, log_thread, &log, NULL));
    for (int i = 0; i < 50; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 500.0));
    }
    bool running = true;
    CHECK_OK(perf_evaluator_is_running(monitor, &running));
    CHECK(!running);
    CHECK_OK(perf_evaluator_start(monitor, 5));
    CHECK_OK(perf_evaluator_is_running(monitor, &running));
    CHECK(running);
    int calls = 0;
    for (int waited = 0; waited < 10000 && calls == 0; waited++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        pthread_mutex_lock(&log.lock);
        calls = log.calls;
        pthread_mutex_unlock(&log.lock);
    }
    CHECK_OK(perf_evaluator_stop(monitor));
    CHECK_OK(perf_evaluator_is_running(monitor, &running));
    CHECK(!running);
    pthread_mutex_lock(&log.lock);
    CHECK(log.calls == 1);
    CHECK(log.calls == 0 || !pthread_equal(log.thread, pthread_self()));
    pthread_mutex_unlock(&log.lock);
    CHECK_OK(perf_evaluator_stop(monitor)); /* none runs: nothing to do */

    CHECK_STATUS(perf_evaluator_start(monitor, 0), PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("at least 1 ms");
    CHECK_STATUS(perf_evaluator_start(NULL, 5), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_evaluator_stop(NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_evaluator_is_running(NULL, &running), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_evaluator_is_running(monitor, NULL), PERF_ERR_NULL_POINTER);

    /* Freeing a monitor stops its evaluator. */
    CHECK_OK(perf_evaluator_start(monitor, 1));
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
    pthread_mutex_destroy(&log.lock);
}

/* A callback that calls back into its monitor: reads, acknowledges, a
 * nested evaluation, and stops the evaluator it runs on. */
typedef struct {
    perf_monitor *monitor;
    atomic_int calls;
    atomic_int failures;
} reentrant_log;

static void reenter(const perf_alert_event *e, void *user_data) {
    reentrant_log *log = user_data;
    perf_stats stats = PERF_STATS_INIT;
    size_t nested = 99;
    int failures = 0;
    failures += perf_stats_get(log->monitor, "api.latency", NULL, 0, &stats) != PERF_OK;
    failures += stats.count != 50;
    failures += perf_alert_acknowledge(log->monitor, e->id) != PERF_OK;
    failures += perf_evaluate(log->monitor, &nested) != PERF_OK;
    failures += nested != 0;
    failures += perf_evaluator_stop(log->monitor) != PERF_OK;
    atomic_fetch_add(&log->failures, failures);
    atomic_fetch_add(&log->calls, 1);
}

static void test_callbacks_may_reenter(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    reentrant_log log = {.monitor = monitor};
    CHECK_OK(perf_alert_subscribe(monitor, reenter, &log, NULL));
    for (int i = 0; i < 50; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 500.0));
    }
    /* The rule comes once the evaluator runs: a stop() from the first
     * evaluation could otherwise come before perf_evaluator_start has
     * registered the evaluator (reported to perf-core). */
    CHECK_OK(perf_evaluator_start(monitor, 2));
    CHECK_OK(perf_rules_load_json(monitor, SLOW_RULES, NULL));
    bool running = true;
    for (int waited = 0; waited < 10000 && running; waited++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        CHECK_OK(perf_evaluator_is_running(monitor, &running));
    }
    CHECK(!running); /* the callback stopped it */
    CHECK_DELIVERED(monitor);
    CHECK(atomic_load(&log.calls) == 1);
    CHECK(atomic_load(&log.failures) == 0);
    perf_alert *alerts = NULL;
    size_t n = 0;
    CHECK_OK(perf_alerts_active(monitor, &alerts, &n));
    CHECK(n == 1 && alerts[0].acknowledged);
    perf_alerts_free(alerts, n);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

/* A callback that blocks until released: evaluation must not wait for it. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t released_cond;
    bool released;
    int calls;
} blocking_log;

static void block_until_released(const perf_alert_event *e, void *user_data) {
    (void)e;
    blocking_log *log = user_data;
    pthread_mutex_lock(&log->lock);
    while (!log->released) {
        pthread_cond_wait(&log->released_cond, &log->lock);
    }
    log->calls++;
    pthread_mutex_unlock(&log->lock);
}

static double elapsed_ms(struct timespec since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since.tv_sec) * 1e3 + (now.tv_nsec - since.tv_nsec) / 1e6;
}

/* A callback that says it started, then takes 200 ms. */
typedef struct {
    atomic_int started;
    atomic_int finished;
} slow_log;

static void slow_delivery(slow_log *log) {
    atomic_store(&log->started, 1);
    struct timespec pause = {0, 200000000};
    nanosleep(&pause, NULL);
    atomic_store(&log->finished, 1);
}

static void slow_callback(const perf_alert_event *e, void *user_data) {
    (void)e;
    slow_delivery(user_data);
}

static void slow_emergency_callback(const perf_emergency_transition *t, void *user_data) {
    (void)t;
    slow_delivery(user_data);
}

/* Waits (at most 10 s) until the callback has started on the notification
 * thread. */
static void wait_until_started(slow_log *log) {
    for (int waited = 0; waited < 10000 && !atomic_load(&log->started); waited++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(atomic_load(&log->started));
    CHECK(!atomic_load(&log->finished)); /* still running: 200 ms */
}

static void test_unsubscribe_waits_for_a_delivery_in_progress(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    CHECK_OK(perf_rules_load_json(monitor, SLOW_RULES, NULL));
    slow_log *log = calloc(1, sizeof *log);
    uint64_t subscription = 0;
    CHECK_OK(perf_alert_subscribe(monitor, slow_callback, log, &subscription));
    CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 500.0));
    CHECK_OK(perf_evaluate(monitor, NULL));
    wait_until_started(log);
    bool existed = false;
    CHECK_OK(perf_alert_unsubscribe(monitor, subscription, &existed));
    CHECK(existed);
    /* The callback has returned: its user_data may go. */
    CHECK(atomic_load(&log->finished));
    free(log);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

/* The same for an emergency listener: the transition is delivered on the
 * notification thread, unsubscribed from this one. */
static void test_emergency_unsubscribe_waits_for_a_delivery_in_progress(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    slow_log *log = calloc(1, sizeof *log);
    uint64_t subscription = 0;
    CHECK_OK(perf_emergency_subscribe(monitor, slow_emergency_callback, log, &subscription));
    CHECK_OK(perf_emergency_activate(monitor, "load test", NULL));
    wait_until_started(log);
    bool existed = false;
    CHECK_OK(perf_emergency_unsubscribe(monitor, subscription, &existed));
    CHECK(existed);
    CHECK(atomic_load(&log->finished));
    free(log);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

static void test_a_blocking_callback_delays_no_evaluation(void) {
    perf_clock_manual *clock = NULL;
    CHECK_OK(perf_clock_manual_new(START_NANOS, &clock));
    perf_monitor_options options = {.struct_size = sizeof(perf_monitor_options), .clock = clock, .notification_capacity = 2};
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new_with_options(&options, &monitor));
    CHECK_OK(perf_rules_load_json(monitor, SLOW_RULES, NULL));
    blocking_log log = {.lock = PTHREAD_MUTEX_INITIALIZER,
                        .released_cond = PTHREAD_COND_INITIALIZER};
    CHECK_OK(perf_alert_subscribe(monitor, block_until_released, &log, NULL));
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    perf_tag routes[6][1] = {{{"route", "/0"}}, {{"route", "/1"}}, {{"route", "/2"}},
                             {{"route", "/3"}}, {{"route", "/4"}}, {{"route", "/5"}}};
    for (int r = 0; r < 6; r++) {
        CHECK_OK(perf_record(monitor, "api.latency", routes[r], 1, 500.0));
    }
    size_t events = 0;
    CHECK_OK(perf_evaluate(monitor, &events));
    CHECK(events == 6);
    CHECK(elapsed_ms(started) < 500.0);
    bool all = true;
    CHECK_OK(perf_monitor_flush_notifications(monitor, 20, &all));
    CHECK(!all);
    uint64_t dropped = 0;
    CHECK_OK(perf_monitor_notifications_dropped(monitor, &dropped));
    CHECK(dropped == 3 || dropped == 4);
    pthread_mutex_lock(&log.lock);
    log.released = true;
    pthread_cond_broadcast(&log.released_cond);
    pthread_mutex_unlock(&log.lock);
    CHECK_DELIVERED(monitor);
    CHECK((uint64_t)log.calls + dropped == 6);
    CHECK_STATUS(perf_monitor_flush_notifications(NULL, 1, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_monitor_notifications_dropped(monitor, NULL), PERF_ERR_NULL_POINTER);
    perf_monitor_free(monitor);
    options.notification_capacity = 20000000;
    CHECK_STATUS(perf_monitor_new_with_options(&options, &monitor), PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("notification_capacity");
    perf_clock_manual_free(clock);
}

/* ---- emergency mode --------------------------------------------------------- */

typedef struct {
    int count;
    perf_emergency_change changes[8];
    bool manual[8];
    char reasons[8][64];
    char descriptions[8][256];
    size_t transition_size; /* struct_size of the last transition */
} emergency_log;

static void log_emergency(const perf_emergency_transition *t, void *user_data) {
    emergency_log *log = user_data;
    log->transition_size = t->struct_size;
    if (log->count < 8) {
        log->changes[log->count] = t->change;
        log->manual[log->count] = t->manual;
        snprintf(log->reasons[log->count], sizeof log->reasons[0], "%s", t->reason);
        snprintf(log->descriptions[log->count], sizeof log->descriptions[0], "%s",
                 t->description);
    }
    log->count++;
}

static void test_emergency_by_hand(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    emergency_log log = {0};
    uint64_t subscription = 0;
    CHECK_OK(perf_emergency_subscribe(monitor, log_emergency, &log, &subscription));
    bool active = true, changed = false;
    CHECK_OK(perf_emergency_is_active(monitor, &active));
    CHECK(!active);
    CHECK_OK(perf_emergency_activate(monitor, "database failover", &changed));
    CHECK(changed);
    CHECK_OK(perf_emergency_is_active(monitor, &active));
    CHECK(active);
    CHECK_OK(perf_emergency_activate(monitor, "again", &changed));
    CHECK(!changed);
    CHECK_OK(perf_emergency_deactivate(monitor, "failover done", &changed));
    CHECK(changed);
    CHECK_OK(perf_emergency_deactivate(monitor, "failover done", NULL));
    CHECK_OK(perf_emergency_is_active(monitor, &active));
    CHECK(!active);
    CHECK_DELIVERED(monitor);
    CHECK(log.transition_size == sizeof(perf_emergency_transition));
    CHECK(log.count == 2);
    CHECK(log.changes[0] == PERF_EMERGENCY_ACTIVATED && log.manual[0]);
    CHECK(strcmp(log.reasons[0], "database failover") == 0);
    CHECK(strstr(log.descriptions[0], "activated by manual: database failover") != NULL);
    CHECK(log.changes[1] == PERF_EMERGENCY_DEACTIVATED && log.manual[1]);
    char *history = NULL;
    CHECK_OK(perf_emergency_history(monitor, &history));
    CHECK(history != NULL && strstr(history, "database failover\n") != NULL &&
          strstr(history, "failover done\n") != NULL);
    perf_string_free(history);

    CHECK_STATUS(perf_emergency_activate(monitor, "   ", NULL), PERF_ERR_INVALID_EMERGENCY);
    CHECK_MESSAGE("must not be blank");
    CHECK_STATUS(perf_emergency_deactivate(monitor, "", NULL), PERF_ERR_INVALID_EMERGENCY);
    CHECK_STATUS(perf_emergency_activate(monitor, BAD_UTF8, NULL), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_emergency_activate(monitor, NULL, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_activate(NULL, "x", NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_deactivate(NULL, "x", NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_is_active(NULL, &active), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_is_active(monitor, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_history(NULL, &history), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_history(monitor, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_subscribe(NULL, log_emergency, NULL, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_subscribe(monitor, NULL, NULL, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_unsubscribe(NULL, 1, NULL), PERF_ERR_NULL_POINTER);

    bool existed = false;
    CHECK_OK(perf_emergency_unsubscribe(monitor, subscription, &existed));
    CHECK(existed);
    CHECK_OK(perf_emergency_unsubscribe(monitor, subscription, NULL));
    CHECK_OK(perf_emergency_activate(monitor, "unheard", NULL));
    CHECK_DELIVERED(monitor);
    CHECK(log.count == 2);
    perf_monitor_free(monitor);
}

static void test_emergency_from_triggers(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    CHECK_OK(perf_rules_load_json(monitor, SLOW_RULES, NULL));
    CHECK_OK(perf_rules_load_json(
        monitor,
        "{\"version\": 1, \"emergency\": {\"triggers\": [{\"rule\": \"slow\", "
        "\"severity\": \"critical\"}], \"min_dwell\": \"1s\", \"clear_for\": \"1s\"}}",
        NULL));
    emergency_log log = {0};
    CHECK_OK(perf_emergency_subscribe(monitor, log_emergency, &log, NULL));
    for (int i = 0; i < 100; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 5000.0));
    }
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
    CHECK_OK(perf_evaluate(monitor, NULL));
    CHECK_DELIVERED(monitor);
    bool active = false;
    CHECK_OK(perf_emergency_is_active(monitor, &active));
    CHECK(active);
    CHECK(log.count == 1 && log.changes[0] == PERF_EMERGENCY_ACTIVATED && !log.manual[0]);
    CHECK(strstr(log.descriptions[0], "triggers [slow]") != NULL);

    CHECK_STATUS(perf_rules_load_json(monitor,
                                      "{\"version\": 1, \"emergency\": {\"triggers\": "
                                      "[{\"rule\": \"no-such-rule\"}]}}",
                                      NULL),
                 PERF_ERR_INVALID_JSON);
    CHECK_MESSAGE("emergency.triggers[0].rule");
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

/* ---- baselines and comparison ---------------------------------------------- */

/* A monitor with `db.query` holding 1..n ms times `factor`. */
static perf_monitor *queries(int n, double factor) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    perf_histogram *h = NULL;
    perf_tag tags[] = {{"table", "users"}};
    CHECK_OK(perf_histogram_get(monitor, "db.query", tags, 1, &h));
    for (int v = 1; v <= n; v++) {
        CHECK_OK(perf_histogram_record(h, v * factor));
    }
    perf_histogram_free(h);
    return monitor;
}

static void test_baselines_and_compare(void) {
    perf_monitor *before = queries(1000, 1.0);
    perf_monitor *after = queries(1000, 2.0);
    perf_baseline *base = NULL, *cur = NULL, *loaded = NULL, *parsed = NULL;
    CHECK_OK(perf_baseline_capture(before, "v1", &base));
    CHECK_OK(perf_baseline_set_metadata(base, "commit", "9c1d2e7"));
    CHECK_OK(perf_baseline_capture(after, "v2", &cur));
    size_t count = 0;
    CHECK_OK(perf_baseline_series_count(base, &count));
    CHECK(count == 1);

    char dir[] = "/tmp/perf-ffi-baseline-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/v1.json", dir);
    CHECK_OK(perf_baseline_save(base, path));
    CHECK_OK(perf_baseline_load(path, &loaded));
    char *json = NULL;
    CHECK_OK(perf_baseline_to_json(loaded, &json));
    CHECK(json != NULL && strstr(json, "\"v1\"") && strstr(json, "9c1d2e7"));
    CHECK_OK(perf_baseline_from_json(json, &parsed));
    perf_string_free(json);
    CHECK_OK(perf_baseline_series_count(parsed, &count));
    CHECK(count == 1);

    /* Twice as slow: regressed, under the default policy and a custom one. */
    char *report = NULL;
    bool passed = true;
    CHECK_OK(perf_compare(parsed, cur, NULL, &report, &passed));
    CHECK(!passed);
    CHECK(contains_and_free(report, "regressed"));
    const char *stats[] = {"p50", "p99.9"};
    perf_threshold thresholds[] = {{"p99.9", 2.5}};
    perf_policy policy = {.struct_size = sizeof(perf_policy), .statistics = stats, .statistics_len = 2, .default_threshold = 0.5,
                          .thresholds = thresholds, .thresholds_len = 1, .alpha = 0.01,
                          .min_samples = 10, .noise = 0.02, .resamples = 200, .seed = 7};
    CHECK_OK(perf_compare(base, cur, &policy, &report, &passed));
    CHECK(!passed); /* p50 doubled: over 50 % */
    CHECK(contains_and_free(report, "p99.9"));
    perf_policy lenient = {.struct_size = sizeof(perf_policy), .default_threshold = 3.0, .resamples = 100};
    CHECK_OK(perf_compare(base, cur, &lenient, &report, &passed));
    CHECK(passed);
    perf_string_free(report);
    perf_policy zero = PERF_POLICY_INIT;
    CHECK_OK(perf_compare(base, loaded, &zero, &report, &passed));
    CHECK(passed);
    CHECK(contains_and_free(report, "unchanged"));

    /* Invalid policies. */
    perf_policy bad_alpha = {.struct_size = sizeof(perf_policy), .alpha = 2.0};
    CHECK_STATUS(perf_compare(base, cur, &bad_alpha, &report, &passed),
                 PERF_ERR_INVALID_COMPARISON);
    CHECK_MESSAGE("alpha");
    const char *bogus[] = {"p200"};
    perf_policy bad_stat = {.struct_size = sizeof(perf_policy), .statistics = bogus, .statistics_len = 1};
    CHECK_STATUS(perf_compare(base, cur, &bad_stat, &report, &passed),
                 PERF_ERR_INVALID_COMPARISON);
    CHECK_MESSAGE("policy.statistics[0]");
    const char *bad_text[] = {BAD_UTF8};
    perf_policy bad_utf8 = {.struct_size = sizeof(perf_policy), .statistics = bad_text, .statistics_len = 1};
    CHECK_STATUS(perf_compare(base, cur, &bad_utf8, &report, &passed), PERF_ERR_INVALID_UTF8);
    perf_policy null_stats = {.struct_size = sizeof(perf_policy), .statistics_len = 1};
    CHECK_STATUS(perf_compare(base, cur, &null_stats, &report, &passed), PERF_ERR_NULL_POINTER);
    perf_policy null_thresholds = {.struct_size = sizeof(perf_policy), .thresholds_len = 1};
    CHECK_STATUS(perf_compare(base, cur, &null_thresholds, &report, &passed),
                 PERF_ERR_NULL_POINTER);
    perf_threshold bad_threshold[] = {{"mean", -1.0}};
    perf_policy negative = {.struct_size = sizeof(perf_policy), .thresholds = bad_threshold, .thresholds_len = 1};
    CHECK_STATUS(perf_compare(base, cur, &negative, &report, &passed),
                 PERF_ERR_INVALID_COMPARISON);
    perf_threshold null_stat[] = {{NULL, 1.0}};
    perf_policy null_stat_policy = {.struct_size = sizeof(perf_policy), .thresholds = null_stat, .thresholds_len = 1};
    CHECK_STATUS(perf_compare(base, cur, &null_stat_policy, &report, &passed),
                 PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("policy.thresholds[0].statistic is NULL");

    /* Files and documents that are no baselines; writes that fail. */
    CHECK_STATUS(perf_baseline_load("/no/such/baseline.json", &loaded), PERF_ERR_INVALID_BASELINE);
    CHECK_MESSAGE("cannot read");
    CHECK_STATUS(perf_baseline_from_json("{}", &parsed), PERF_ERR_INVALID_BASELINE);
    CHECK_STATUS(perf_baseline_from_json("{\"format\": \"perf-core-baseline\"", &parsed),
                 PERF_ERR_INVALID_BASELINE);
    CHECK_STATUS(perf_baseline_from_json(BAD_UTF8, &parsed), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_baseline_save(base, "/no/such/dir/v1.json"), PERF_ERR_IO);
    CHECK_STATUS(perf_baseline_save(base, BAD_UTF8), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_baseline_capture(before, BAD_UTF8, &loaded), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_baseline_set_metadata(base, "k", BAD_UTF8), PERF_ERR_INVALID_UTF8);

    CHECK_STATUS(perf_baseline_capture(NULL, "v", &loaded), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_capture(before, NULL, &loaded), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_capture(before, "v", NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_set_metadata(NULL, "k", "v"), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_set_metadata(base, NULL, "v"), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_series_count(NULL, &count), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_series_count(base, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_save(NULL, path), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_save(base, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_load(NULL, &loaded), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_load(path, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_to_json(NULL, &json), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_to_json(base, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_from_json(NULL, &parsed), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_from_json("{}", NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_compare(NULL, cur, NULL, &report, &passed), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_compare(base, NULL, NULL, &report, &passed), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_compare(base, cur, NULL, NULL, &passed), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_compare(base, cur, NULL, &report, NULL), PERF_ERR_NULL_POINTER);

    remove(path);
    rmdir(dir);
    perf_baseline_free(base);
    perf_baseline_free(cur);
    perf_baseline_free(loaded);
    perf_baseline_free(parsed);
    perf_baseline_free(NULL);
    perf_monitor_free(before);
    perf_monitor_free(after);
}

/* ---- exports ------------------------------------------------------------------- */

static void test_exports(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    perf_counter *jobs = NULL;
    perf_tag queue[] = {{"queue", "mail"}};
    CHECK_OK(perf_counter_get(monitor, "jobs.done", queue, 1, &jobs));
    CHECK_OK(perf_counter_increment(jobs, 3));
    perf_counter_free(jobs);
    CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 3.0));

    char *text = NULL;
    CHECK_OK(perf_export_prometheus(monitor, &text));
    CHECK(text != NULL && strstr(text, "# TYPE jobs_done_total counter\n") &&
          strstr(text, "jobs_done_total{queue=\"mail\"} 3\n"));
    perf_string_free(text);
    CHECK_OK(perf_export_openmetrics(monitor, &text));
    CHECK(text != NULL && strlen(text) > 6 && strcmp(text + strlen(text) - 6, "# EOF\n") == 0);
    CHECK(contains_and_free(text, "api_latency_count 1\n"));
    CHECK_OK(perf_export_json(monitor, false, &text));
    CHECK(text != NULL && strstr(text, "perf-core-export") && !strstr(text, "\"buckets\""));
    perf_string_free(text);
    CHECK_OK(perf_export_json(monitor, true, &text));
    CHECK(contains_and_free(text, "\"buckets\""));
    CHECK_OK(perf_export_csv(monitor, &text));
    CHECK(text != NULL && strncmp(text, "timestamp,metric,tags,stat,value\n", 33) == 0);
    CHECK(contains_and_free(text, "2023-11-14T22:13:20.000Z,jobs.done,queue=mail,value,3\n"));

    /* HdrHistogram: export from one monitor, merge into another. */
    CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 250.0));
    CHECK_OK(perf_export_hdr(monitor, "api.latency", NULL, 0, &text));
    CHECK(text != NULL && strncmp(text, "HISTF", 5) == 0);
    perf_monitor *fleet = NULL;
    CHECK_OK(perf_monitor_new(&fleet));
    CHECK_OK(perf_import_hdr(fleet, "api.latency", queue, 1, text));
    CHECK_OK(perf_import_hdr(fleet, "api.latency", queue, 1, text));
    CHECK_STATUS(perf_import_hdr(fleet, "", NULL, 0, text), PERF_ERR_INVALID_NAME);
    perf_string_free(text);
    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_stats_get(fleet, "api.latency", queue, 1, &stats));
    CHECK(stats.count == 4);
    CHECK_NEAR(stats.max, 250.0, 0.005);
    CHECK_STATUS(perf_import_hdr(fleet, "api.latency", queue, 1, "HISTFnot-base64!"),
                 PERF_ERR_INVALID_HDR);
    CHECK_STATUS(perf_import_hdr(fleet, "api.latency", queue, 1, BAD_UTF8), PERF_ERR_INVALID_UTF8);
    CHECK_OK(perf_stats_get(fleet, "api.latency", queue, 1, &stats));
    CHECK(stats.count == 4); /* all or nothing */
    CHECK_STATUS(perf_export_hdr(monitor, "jobs.done", queue, 1, &text), PERF_ERR_KIND_MISMATCH);
    CHECK_STATUS(perf_export_hdr(monitor, "nope", NULL, 0, &text), PERF_ERR_UNKNOWN_SERIES);

    CHECK_STATUS(perf_export_prometheus(NULL, &text), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_prometheus(monitor, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_openmetrics(NULL, &text), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_json(NULL, false, &text), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_json(monitor, true, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_csv(NULL, &text), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_hdr(NULL, "x", NULL, 0, &text), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_hdr(monitor, "api.latency", NULL, 0, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_import_hdr(NULL, "x", NULL, 0, "HISTF"), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_import_hdr(fleet, "x", NULL, 0, NULL), PERF_ERR_NULL_POINTER);
    perf_string_free(NULL);
    perf_monitor_free(fleet);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

/* ---- coverage of the statuses ------------------------------------------------- */

/* ---- growable structs ---------------------------------------------------- */

#define GUARD 0xAB

/* Whether the `len` bytes at `p` all still hold GUARD. */
static bool untouched(const void *p, size_t len) {
    const unsigned char *bytes = p;
    for (size_t i = 0; i < len; i++) {
        if (bytes[i] != GUARD) {
            return false;
        }
    }
    return true;
}

/* A struct as a newer header would declare it: this one plus a field. */
typedef struct {
    perf_stats stats;
    uint64_t added_later;
} newer_stats;

/* The library fills only what the caller's struct_size covers: a newer,
 * larger struct keeps its later fields, a struct smaller than the first
 * version is refused and nothing is written. */
static void test_growable_output_structs(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    perf_histogram *h = NULL;
    CHECK_OK(perf_histogram_get(monitor, "sized", NULL, 0, &h));
    CHECK_OK(perf_histogram_record(h, 4.0));

    perf_stats by_function;
    perf_stats_init(&by_function);
    CHECK(by_function.struct_size == sizeof(perf_stats) && by_function.count == 0);
    CHECK_OK(perf_histogram_stats(h, &by_function));
    CHECK(by_function.count == 1 && by_function.sum == 4.0);
    CHECK(by_function.struct_size == sizeof(perf_stats)); /* never changed */

    newer_stats newer;
    memset(&newer, GUARD, sizeof newer);
    newer.stats.struct_size = sizeof newer;
    CHECK_OK(perf_stats_get(monitor, "sized", NULL, 0, &newer.stats));
    CHECK(newer.stats.count == 1 && newer.stats.rejected == 0);
    CHECK(untouched(&newer.added_later, sizeof newer.added_later));

    /* An "old header" prefix smaller than the first version: refused. */
    perf_stats old;
    memset(&old, GUARD, sizeof old);
    old.struct_size = offsetof(perf_stats, rejected);
    CHECK_STATUS(perf_histogram_stats(h, &old), PERF_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("out->struct_size is");
    CHECK_STATUS(perf_window_stats(monitor, "sized", NULL, 0, 1000, &old),
                 PERF_ERR_INVALID_ARGUMENT);
    CHECK(old.struct_size == offsetof(perf_stats, rejected));
    CHECK(untouched((char *)&old + sizeof old.struct_size, sizeof old - sizeof old.struct_size));

    perf_multiprocess_status status;
    memset(&status, GUARD, sizeof status);
    status.struct_size = sizeof(size_t);
    CHECK_STATUS(perf_monitor_multiprocess(monitor, &status), PERF_ERR_INVALID_ARGUMENT);
    CHECK(untouched((char *)&status + sizeof(size_t), sizeof status - sizeof(size_t)));
    perf_multiprocess_status_init(&status);
    CHECK_OK(perf_monitor_multiprocess(monitor, &status));
    CHECK(!status.enabled);
    perf_histogram_free(h);
    perf_monitor_free(monitor);
}

/* The library reads only what the caller's struct_size covers. */
static void test_growable_input_structs(void) {
    perf_monitor *monitor = NULL;
    perf_monitor_options options;
    perf_monitor_options_init(&options);
    CHECK(options.struct_size == sizeof options && options.precision_bits == 0);
    CHECK_OK(perf_monitor_new_with_options(&options, &monitor));
    perf_monitor_free(monitor);

    /* A newer header's larger struct: what this library does not know is
     * ignored (it takes its default). */
    struct {
        perf_monitor_options options;
        uint64_t added_later;
    } newer = {PERF_MONITOR_OPTIONS_INIT, 0};
    newer.options.struct_size = sizeof newer;
    newer.options.precision_bits = 5;
    CHECK_OK(perf_monitor_new_with_options(&newer.options, &monitor));
    perf_monitor_free(monitor);

    options.struct_size = 0; /* e.g. `= {0}`, as before struct_size existed */
    monitor = NULL;
    CHECK_STATUS(perf_monitor_new_with_options(&options, &monitor), PERF_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("options->struct_size is 0");
    CHECK(monitor == NULL);

    perf_monitor *a = NULL, *b = NULL;
    CHECK_OK(perf_monitor_new(&a));
    CHECK_OK(perf_record(a, "latency", NULL, 0, 1.0));
    perf_baseline *base = NULL;
    CHECK_OK(perf_baseline_capture(a, "v1", &base));
    perf_policy policy;
    perf_policy_init(&policy);
    CHECK(policy.struct_size == sizeof policy && policy.statistics == NULL);
    char *report = NULL;
    bool passed = false;
    CHECK_OK(perf_compare(base, base, &policy, &report, &passed));
    perf_string_free(report);
    policy.struct_size = sizeof policy - 1;
    CHECK_STATUS(perf_compare(base, base, &policy, &report, &passed), PERF_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("policy->struct_size");
    perf_baseline_free(base);
    perf_monitor_free(a);
    perf_monitor_free(b);
}

/* ---- alert history, series listing, monitor getters -------------------------- */

static void test_alert_history(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    perf_alert_history_entry *events = (perf_alert_history_entry *)&clock;
    size_t n = 99;
    CHECK_OK(perf_alert_history(monitor, &events, &n));
    CHECK(events == NULL && n == 0);
    perf_alert_history_free(events, n);

    CHECK_OK(perf_rules_load_json(monitor, SLOW_RULES, NULL));
    perf_tag tags[] = {{"route", "/a"}};
    for (int i = 0; i < 50; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", tags, 1, 500.0));
    }
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
    CHECK_OK(perf_evaluate(monitor, NULL)); /* fired: warning */
    for (int i = 0; i < 500; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", tags, 1, 5000.0));
    }
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
    CHECK_OK(perf_evaluate(monitor, NULL)); /* escalated: critical */

    CHECK_OK(perf_alert_history(monitor, &events, &n));
    CHECK(n == 2);
    if (n == 2) {
        /* Oldest first, each with its own copy of the strings. */
        CHECK(events[0].kind == PERF_ALERT_FIRED);
        CHECK(events[0].severity == PERF_SEVERITY_WARNING);
        CHECK(events[0].previous_severity == PERF_SEVERITY_NONE);
        CHECK(strcmp(events[0].rule, "slow") == 0);
        CHECK(strcmp(events[0].metric, "api.latency") == 0);
        CHECK(strcmp(events[0].series, "api.latency{route=\"/a\"}") == 0);
        CHECK(events[0].threshold == 100.0);
        CHECK_NEAR(events[0].value, 500.0, 0.0039);
        CHECK(events[0].at_unix_nanos == START_NANOS + SEC);
        CHECK(events[0].fired_at_unix_nanos == START_NANOS + SEC);
        CHECK(events[1].kind == PERF_ALERT_ESCALATED);
        CHECK(events[1].id == events[0].id);
        CHECK(events[1].severity == PERF_SEVERITY_CRITICAL);
        CHECK(events[1].previous_severity == PERF_SEVERITY_WARNING);
        CHECK(events[1].at_unix_nanos == START_NANOS + 2 * SEC);
        CHECK(events[0].rule != events[1].rule);
    }
    perf_alert_history_free(events, n);
    perf_alert_history_free(NULL, 0);

    CHECK_STATUS(perf_alert_history(NULL, &events, &n), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_alert_history(monitor, NULL, &n), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("out_events is NULL");
    CHECK_STATUS(perf_alert_history(monitor, &events, NULL), PERF_ERR_NULL_POINTER);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

static void test_series_list(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    perf_series_info *series = NULL;
    size_t n = 99;
    CHECK_OK(perf_series_list(monitor, &series, &n));
    CHECK(series == NULL && n == 0);
    perf_series_list_free(series, n);

    perf_tag tags[] = {{"route", "/users"}, {"method", "GET"}};
    CHECK_OK(perf_record(monitor, "http.duration", tags, 2, 3.0));
    perf_counter *jobs = NULL;
    CHECK_OK(perf_counter_get(monitor, "jobs.done", NULL, 0, &jobs));
    perf_counter_free(jobs);
    perf_gauge *depth = NULL;
    perf_tag queue[] = {{"queue", "mail"}};
    CHECK_OK(perf_gauge_get(monitor, "queue.depth", queue, 1, &depth));
    perf_gauge_free(depth);

    CHECK_OK(perf_series_list(monitor, &series, &n));
    CHECK(n == 3);
    if (n == 3) {
        /* Sorted by name, then tags. */
        CHECK(strcmp(series[0].name, "http.duration") == 0);
        CHECK(series[0].kind == PERF_METRIC_HISTOGRAM);
        CHECK(series[0].tags_len == 2);
        CHECK(strcmp(series[0].tags[0].key, "method") == 0 &&
              strcmp(series[0].tags[0].value, "GET") == 0);
        CHECK(strcmp(series[0].tags[1].key, "route") == 0 &&
              strcmp(series[0].tags[1].value, "/users") == 0);
        CHECK(strcmp(series[0].key, "http.duration{method=\"GET\",route=\"/users\"}") == 0);
        CHECK(strcmp(series[1].name, "jobs.done") == 0);
        CHECK(series[1].kind == PERF_METRIC_COUNTER);
        CHECK(series[1].tags == NULL && series[1].tags_len == 0);
        CHECK(strcmp(series[1].key, "jobs.done") == 0);
        CHECK(series[2].kind == PERF_METRIC_GAUGE);
        CHECK(strcmp(series[2].key, "queue.depth{queue=\"mail\"}") == 0);
        /* The listed tags name the series for the other functions. */
        perf_stats stats = PERF_STATS_INIT;
        CHECK_OK(perf_stats_get(monitor, series[0].name, series[0].tags, series[0].tags_len,
                                &stats));
        CHECK(stats.count == 1);
    }
    perf_series_list_free(series, n);
    perf_series_list_free(NULL, 0);

    CHECK_STATUS(perf_series_list(NULL, &series, &n), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_series_list(monitor, NULL, &n), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_series_list(monitor, &series, NULL), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("out_len is NULL");
    perf_monitor_free(monitor);
}

static void test_monitor_getters_and_tick(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    uint8_t bits = 0;
    uint64_t interval = 0;
    CHECK_OK(perf_monitor_precision_bits(monitor, &bits));
    CHECK(bits == 7);
    CHECK_OK(perf_monitor_window_interval_ms(monitor, &interval));
    CHECK(interval == 1000);
    CHECK_OK(perf_monitor_tick(monitor));
    CHECK_STATUS(perf_monitor_tick(NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_monitor_precision_bits(NULL, &bits), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_monitor_precision_bits(monitor, NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_monitor_window_interval_ms(NULL, &interval), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_monitor_window_interval_ms(monitor, NULL), PERF_ERR_NULL_POINTER);
    perf_monitor_free(monitor);

    perf_monitor_options options = PERF_MONITOR_OPTIONS_INIT;
    options.precision_bits = 9;
    options.window_interval_ms = 250;
    CHECK_OK(perf_monitor_new_with_options(&options, &monitor));
    CHECK_OK(perf_monitor_precision_bits(monitor, &bits));
    CHECK_OK(perf_monitor_window_interval_ms(monitor, &interval));
    CHECK(bits == 9 && interval == 250);
    /* A value recorded now counts in the current window once ticked. */
    CHECK_OK(perf_record(monitor, "ticked", NULL, 0, 2.0));
    CHECK_OK(perf_monitor_tick(monitor));
    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_window_stats(monitor, "ticked", NULL, 0, 1000, &stats));
    CHECK(stats.count == 1);
    perf_monitor_free(monitor);

    options.disable_windows = true;
    CHECK_OK(perf_monitor_new_with_options(&options, &monitor));
    CHECK_OK(perf_monitor_window_interval_ms(monitor, &interval));
    CHECK(interval == 0);
    CHECK_OK(perf_monitor_tick(monitor)); /* nothing to file */
    perf_monitor_free(monitor);
}

/* ---- repeat intervals, an old perf_monitor_options ---------------------------- */

/* Fires the critical level of SLOW_RULES, waits `ms` and evaluates again:
 * whether the alert's notification repeated. */
static bool repeats_after(perf_monitor_options *options, uint64_t ms) {
    perf_clock_manual *clock = NULL;
    CHECK_OK(perf_clock_manual_new(START_NANOS, &clock));
    options->clock = clock;
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new_with_options(options, &monitor));
    CHECK_OK(perf_rules_load_json(monitor, SLOW_RULES, NULL));
    CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 5000.0));
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
    size_t events = 0;
    CHECK_OK(perf_evaluate(monitor, &events));
    CHECK(events == 1);
    CHECK_OK(perf_clock_manual_advance_ms(clock, ms));
    CHECK_OK(perf_evaluate(monitor, &events));
    bool repeated = false;
    perf_alert_history_entry *history = NULL;
    size_t n = 0;
    CHECK_OK(perf_alert_history(monitor, &history, &n));
    for (size_t i = 0; i < n; i++) {
        repeated |= history[i].kind == PERF_ALERT_REPEATED;
    }
    perf_alert_history_free(history, n);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
    options->clock = NULL;
    return repeated;
}

static void test_repeat_intervals(void) {
    perf_monitor_options options = PERF_MONITOR_OPTIONS_INIT;
    CHECK(!repeats_after(&options, 10000)); /* the default: 5 min for critical */
    options.repeat_critical_ms = 5000;
    options.repeat_warning_ms = 1; /* another severity: no effect here */
    CHECK(!repeats_after(&options, 4000));
    CHECK(repeats_after(&options, 5000));
    options.repeat_critical_ms = 0; /* 0: the default again */
    CHECK(!repeats_after(&options, 10000));
}

/* A program built against the first header passes the smaller struct,
 * which ended with notification_capacity: it keeps working, and the
 * fields it does not have take their defaults (the bytes after its struct
 * are never read). */
static void test_an_old_monitor_options_struct_still_works(void) {
    size_t first_version = offsetof(perf_monitor_options, notification_capacity) + sizeof(size_t);
    CHECK(first_version == offsetof(perf_monitor_options, repeat_critical_ms));
    perf_monitor_options options;
    memset(&options, GUARD, sizeof options); /* what follows an old struct */
    memset(&options, 0, first_version);
    options.struct_size = first_version;
    options.precision_bits = 6;
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new_with_options(&options, &monitor));
    uint8_t bits = 0;
    CHECK_OK(perf_monitor_precision_bits(monitor, &bits));
    CHECK(bits == 6);
    perf_monitor_free(monitor);
    /* The guard bytes (huge repeat intervals) were not read: the default
     * 5 min applies, not 0xABAB... ms. */
    CHECK(!repeats_after(&options, 10000));
    options.repeat_critical_ms = 1000; /* past its struct_size: ignored */
    CHECK(!repeats_after(&options, 10000));
    options.struct_size = first_version - 1;
    CHECK_STATUS(perf_monitor_new_with_options(&options, &monitor), PERF_ERR_INVALID_ARGUMENT);
}

/* ---- record_many --------------------------------------------------------------- */

static void test_record_many(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    perf_histogram *h = NULL;
    CHECK_OK(perf_histogram_get(monitor, "batch", NULL, 0, &h));
    const double values[] = {1.0, 2.0, 3.0, 4.0};
    CHECK_OK(perf_histogram_record_many(h, values, 4));
    CHECK_OK(perf_histogram_record_many(h, NULL, 0));
    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_histogram_stats(h, &stats));
    CHECK(stats.count == 4 && stats.sum == 10.0 && stats.rejected == 0);

    /* As in Rust: every valid value is recorded, the invalid ones are
     * counted, and the first refusal is the status. */
    const double mixed[] = {5.0, NAN, 6.0, -1.0};
    CHECK_STATUS(perf_histogram_record_many(h, mixed, 4), PERF_ERR_INVALID_VALUE);
    CHECK_MESSAGE("NaN");
    CHECK_OK(perf_histogram_stats(h, &stats));
    CHECK(stats.count == 6 && stats.sum == 21.0 && stats.rejected == 2);

    CHECK_STATUS(perf_histogram_record_many(NULL, values, 4), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_histogram_record_many(h, NULL, 2), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("values (with values_len > 0) is NULL");
    CHECK_OK(perf_histogram_stats(h, &stats));
    CHECK(stats.count == 6);
    perf_histogram_free(h);
    perf_monitor_free(monitor);
}

/* ---- exposition options --------------------------------------------------------- */

static void test_exposition_options(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    CHECK_OK(perf_record(monitor, "db.query", NULL, 0, 3.0));
    const char *options =
        "{\"global_labels\": {\"service\": \"api\"}, \"help\": {\"db.query\": \"Query time\"},"
        " \"units\": {\"db.query\": \"milliseconds\"}, \"buckets\": {\"db.query\": [1, 5, 25]}}";
    char *text = NULL;
    CHECK_OK(perf_export_prometheus_with(monitor, options, &text));
    CHECK(text != NULL && strstr(text, "# HELP db_query_milliseconds Query time\n") != NULL);
    CHECK(contains_and_free(text, "db_query_milliseconds_bucket{service=\"api\",le=\"5\"} 1\n"));
    CHECK_OK(perf_export_openmetrics_with(monitor, options, &text));
    CHECK(text != NULL && strstr(text, "# UNIT db_query_milliseconds milliseconds\n") != NULL);
    CHECK(contains_and_free(text, "# EOF\n"));
    /* "{}" is the default exposition. */
    char *plain = NULL;
    CHECK_OK(perf_export_prometheus_with(monitor, "{}", &text));
    CHECK_OK(perf_export_prometheus(monitor, &plain));
    CHECK(text != NULL && plain != NULL && strcmp(text, plain) == 0);
    perf_string_free(text);
    perf_string_free(plain);

    /* Bad options name the option. */
    text = NULL;
    CHECK_STATUS(perf_export_prometheus_with(monitor, "{\"bucket\": {}}", &text),
                 PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("unknown field `bucket`");
    CHECK_STATUS(perf_export_openmetrics_with(monitor, "{\"default_buckets\": [5, 1]}", &text),
                 PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("default_buckets: ");
    CHECK_STATUS(perf_export_prometheus_with(monitor, "{\"buckets\": {\"db.query\": \"x\"}}",
                                             &text),
                 PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("buckets");
    CHECK_STATUS(perf_export_prometheus_with(monitor, "not json", &text), PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("exposition options");
    CHECK_STATUS(perf_export_prometheus_with(monitor, "{\"global_labels\": {\"le\": \"1\"}}",
                                             &text),
                 PERF_ERR_INVALID_TAG);
    CHECK_MESSAGE("global_labels: ");
    CHECK(text == NULL); /* written only on PERF_OK */
    CHECK_STATUS(perf_export_prometheus_with(monitor, BAD_UTF8, &text), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_export_prometheus_with(NULL, "{}", &text), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_prometheus_with(monitor, NULL, &text), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("options_json is NULL");
    CHECK_STATUS(perf_export_prometheus_with(monitor, "{}", NULL), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_openmetrics_with(NULL, "{}", &text), PERF_ERR_NULL_POINTER);
    perf_monitor_free(monitor);
}

/* ---- protobuf exposition ----------------------------------------------------------- */

/* A protobuf reader just big enough for the exposition's messages: a
 * cursor over [p, end) that turns `ok` false on malformed input. */
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    bool ok;
} pb_reader;

/* One field: its number and wire type, and its varint value (wire type 0)
 * or its bytes (wire type 2). */
typedef struct {
    uint32_t number;
    uint32_t wire;
    uint64_t varint;
    pb_reader bytes;
} pb_field;

static uint64_t pb_varint(pb_reader *r) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t byte = *r->p++;
        value |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            return value;
        }
    }
    r->ok = false;
    return 0;
}

static bool pb_skip(pb_reader *r, uint64_t n) {
    if ((uint64_t)(r->end - r->p) < n) {
        r->ok = false;
    } else {
        r->p += n;
    }
    return r->ok;
}

/* The next field of `r`; false at its end or on malformed input. */
static bool pb_next(pb_reader *r, pb_field *f) {
    if (!r->ok || r->p >= r->end) {
        return false;
    }
    uint64_t key = pb_varint(r);
    f->number = (uint32_t)(key >> 3);
    f->wire = (uint32_t)(key & 7);
    switch (f->wire) {
    case 0:
        f->varint = pb_varint(r);
        break;
    case 1:
        pb_skip(r, 8);
        break;
    case 2: {
        uint64_t len = pb_varint(r);
        const uint8_t *start = r->p;
        if (pb_skip(r, len)) {
            f->bytes = (pb_reader){start, r->p, true};
        }
        break;
    }
    case 5:
        pb_skip(r, 4);
        break;
    default:
        r->ok = false;
    }
    return r->ok;
}

static int64_t pb_zigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* What the test reads of one MetricFamily. */
typedef struct {
    char name[64];
    uint64_t type;
    size_t metrics;
    /* Of the first metric's histogram, if any. */
    bool histogram;
    uint64_t sample_count;
    int64_t schema;
    size_t positive_spans;
    int64_t positive_total; /* the native buckets' counts, from their deltas */
    size_t classic_buckets;
    bool summary;
    size_t labels;
} pb_family;

static void pb_read_histogram(pb_reader h, pb_family *out) {
    pb_field f;
    int64_t count = 0;
    out->histogram = true;
    while (pb_next(&h, &f)) {
        if (f.number == 1 && f.wire == 0) out->sample_count = f.varint;
        if (f.number == 3 && f.wire == 2) out->classic_buckets++;
        if (f.number == 5 && f.wire == 0) out->schema = pb_zigzag(f.varint);
        if (f.number == 12 && f.wire == 2) out->positive_spans++;
        if (f.number == 13 && f.wire == 0) {
            count += pb_zigzag(f.varint); /* deltas: each count minus the previous */
            out->positive_total += count;
        }
    }
    CHECK(h.ok);
}

/* Reads the family of `r`'s bytes into `out`. */
static void pb_read_family(pb_reader r, pb_family *out) {
    memset(out, 0, sizeof *out);
    pb_field f;
    while (pb_next(&r, &f)) {
        if (f.number == 1 && f.wire == 2) {
            size_t len = (size_t)(f.bytes.end - f.bytes.p);
            if (len >= sizeof out->name) len = sizeof out->name - 1;
            memcpy(out->name, f.bytes.p, len);
        } else if (f.number == 3 && f.wire == 0) {
            out->type = f.varint;
        } else if (f.number == 4 && f.wire == 2) {
            if (out->metrics++ > 0) continue;
            pb_field m;
            while (pb_next(&f.bytes, &m)) {
                if (m.number == 1 && m.wire == 2) out->labels++;
                if (m.number == 7 && m.wire == 2) pb_read_histogram(m.bytes, out);
                if (m.number == 4 && m.wire == 2) out->summary = true;
            }
            CHECK(f.bytes.ok);
        }
    }
    CHECK(r.ok);
}

/* Splits the delimited stream into at most `max` families; returns how
 * many, or -1 if a length prefix or a message is malformed. */
static int pb_read_families(const uint8_t *bytes, size_t len, pb_family *out, int max) {
    pb_reader r = {bytes, bytes + len, true};
    int n = 0;
    while (r.ok && r.p < r.end && n < max) {
        uint64_t size = pb_varint(&r);
        const uint8_t *start = r.p;
        if (!pb_skip(&r, size)) break;
        pb_read_family((pb_reader){start, r.p, true}, &out[n++]);
    }
    return r.ok && r.p == r.end ? n : -1;
}

static const pb_family *pb_find(const pb_family *families, int n, const char *name) {
    for (int i = 0; i < n; i++) {
        if (strcmp(families[i].name, name) == 0) return &families[i];
    }
    fprintf(stderr, "no family %s in the protobuf exposition\n", name);
    return NULL;
}

enum { PB_COUNTER = 0, PB_GAUGE = 1, PB_SUMMARY = 2, PB_HISTOGRAM = 4 };

static void test_protobuf_exposition(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));

    /* A monitor without series: no bytes (NULL), and freeing that is fine. */
    uint8_t *bytes = (uint8_t *)"untouched";
    size_t len = 99;
    CHECK_OK(perf_export_protobuf(monitor, &bytes, &len));
    CHECK(bytes == NULL && len == 0);
    perf_bytes_free(bytes, len);

    const perf_tag route = {"route", "/api"};
    CHECK_OK(perf_record(monitor, "db.query", &route, 1, 0.5));
    CHECK_OK(perf_record(monitor, "db.query", &route, 1, 3.0));
    CHECK_OK(perf_record(monitor, "db.query", &route, 1, 40.0));
    perf_counter *jobs = NULL;
    CHECK_OK(perf_counter_get(monitor, "jobs", NULL, 0, &jobs));
    CHECK_OK(perf_counter_increment(jobs, 7));
    perf_counter_free(jobs);

    CHECK_OK(perf_export_protobuf(monitor, &bytes, &len));
    CHECK(bytes != NULL && len > 0);
    pb_family families[8];
    int n = pb_read_families(bytes, len, families, 8);
    CHECK(n == 2);
    const pb_family *query = pb_find(families, n, "db_query");
    const pb_family *counter = pb_find(families, n, "jobs_total");
    CHECK(query != NULL && counter != NULL);
    if (query != NULL) {
        CHECK(query->type == PB_HISTOGRAM && query->metrics == 1 && query->labels == 1);
        /* The native histogram: schema 8, spans and every sample in its buckets. */
        CHECK(query->histogram && query->sample_count == 3);
        CHECK(query->schema == 8);
        CHECK(query->positive_spans >= 1 && query->positive_total == 3);
        CHECK(query->classic_buckets > 0); /* and the classic buckets too */
    }
    if (counter != NULL) {
        CHECK(counter->type == PB_COUNTER && counter->metrics == 1);
    }

    /* "{}" is the default exposition: the same bytes. */
    uint8_t *same = NULL;
    size_t same_len = 0;
    CHECK_OK(perf_export_protobuf_with(monitor, "{}", &same, &same_len));
    CHECK(same_len == len && same != NULL && memcmp(same, bytes, len) == 0);
    perf_bytes_free(same, same_len);
    perf_bytes_free(bytes, len);

    /* Options: global labels, and a histogram as a summary. */
    CHECK_OK(perf_export_protobuf_with(
        monitor, "{\"global_labels\": {\"service\": \"api\"}, \"summaries\": {\"db.query\": [0.5]}}",
        &bytes, &len));
    n = pb_read_families(bytes, len, families, 8);
    CHECK(n == 2);
    query = pb_find(families, n, "db_query");
    CHECK(query != NULL && query->type == PB_SUMMARY && query->summary && !query->histogram &&
          query->labels == 2);
    perf_bytes_free(bytes, len);

    /* Errors: written only on PERF_OK. */
    bytes = NULL;
    len = 0;
    CHECK_STATUS(perf_export_protobuf_with(monitor, "{\"bucket\": {}}", &bytes, &len),
                 PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("unknown field `bucket`");
    CHECK_STATUS(perf_export_protobuf_with(monitor, "{\"global_labels\": {\"le\": \"1\"}}", &bytes,
                                           &len),
                 PERF_ERR_INVALID_TAG);
    CHECK(bytes == NULL && len == 0);
    CHECK_STATUS(perf_export_protobuf_with(monitor, BAD_UTF8, &bytes, &len), PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_export_protobuf_with(monitor, NULL, &bytes, &len), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("options_json is NULL");
    CHECK_STATUS(perf_export_protobuf_with(NULL, "{}", &bytes, &len), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_protobuf(NULL, &bytes, &len), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_export_protobuf(monitor, NULL, &len), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("out_bytes is NULL");
    CHECK_STATUS(perf_export_protobuf(monitor, &bytes, NULL), PERF_ERR_NULL_POINTER);
    CHECK(bytes == NULL && len == 0);
    /* perf_export takes the text formats only. */
    char *text = NULL;
    CHECK_STATUS(perf_export(monitor, "protobuf", &text, NULL), PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("export_protobuf");
    CHECK(text == NULL);
    perf_bytes_free(NULL, 0);
    perf_monitor_free(monitor);
}

/* ---- emergency status ------------------------------------------------------------ */

static void test_emergency_status(void) {
    perf_clock_manual *clock = NULL;
    perf_monitor *monitor = manual_monitor(&clock);
    perf_emergency_state state = PERF_EMERGENCY_STATE_INIT;
    CHECK_OK(perf_emergency_status(monitor, &state));
    CHECK(!state.active && !state.manual && state.since_unix_nanos == 0 &&
          state.dwell_until_unix_nanos == 0);
    CHECK(state.triggers == NULL && state.triggers_len == 0);
    perf_emergency_status_free(&state);

    CHECK_OK(perf_rules_load_json(monitor, SLOW_RULES, NULL));
    CHECK_OK(perf_rules_load_json(
        monitor,
        "{\"version\": 1, \"emergency\": {\"triggers\": [{\"rule\": \"slow\", "
        "\"severity\": \"critical\"}], \"min_dwell\": \"10s\", \"clear_for\": \"1s\"}}",
        NULL));
    perf_emergency_state_init(&state);
    CHECK_OK(perf_emergency_status(monitor, &state));
    CHECK(!state.active && state.triggers_len == 1);
    if (state.triggers_len == 1) {
        CHECK(strcmp(state.triggers[0].name, "slow") == 0);
        CHECK(!state.triggers[0].holding && state.triggers[0].true_since_unix_nanos == 0);
        CHECK(!state.triggers[0].has_last && isnan(state.triggers[0].last_value));
        CHECK(state.triggers[0].last_series == NULL && state.triggers[0].last_description == NULL);
    }
    perf_emergency_status_free(&state);
    CHECK(state.triggers == NULL && state.triggers_len == 0);
    perf_emergency_status_free(&state); /* a second time does nothing */
    perf_emergency_status_free(NULL);

    for (int i = 0; i < 100; i++) {
        CHECK_OK(perf_record(monitor, "api.latency", NULL, 0, 5000.0));
    }
    CHECK_OK(perf_clock_manual_advance_ms(clock, 1000));
    CHECK_OK(perf_evaluate(monitor, NULL));
    CHECK_OK(perf_emergency_status(monitor, &state));
    CHECK(state.active && !state.manual);
    CHECK(state.since_unix_nanos == START_NANOS + SEC);
    CHECK(state.dwell_until_unix_nanos == START_NANOS + 11 * SEC);
    CHECK(state.triggers_len == 1);
    if (state.triggers_len == 1) {
        perf_emergency_trigger *t = &state.triggers[0];
        CHECK(t->holding && t->true_since_unix_nanos == START_NANOS + SEC);
        CHECK(t->has_last);
        CHECK_NEAR(t->last_value, 5000.0, 0.0039);
        CHECK(t->last_series != NULL && strcmp(t->last_series, "api.latency") == 0);
        CHECK(t->last_threshold == 1000.0);
        CHECK(t->last_description != NULL &&
              strcmp(t->last_description, "slow on api.latency: 5000 (holds when > 1000)") == 0);
    }
    perf_emergency_status_free(&state);

    CHECK_OK(perf_emergency_activate(monitor, "by hand", NULL));
    CHECK_OK(perf_emergency_status(monitor, &state));
    CHECK(state.active && state.manual);
    perf_emergency_status_free(&state);

    /* A struct below the first version: refused, nothing written. */
    perf_emergency_state small;
    memset(&small, GUARD, sizeof small);
    small.struct_size = offsetof(perf_emergency_state, triggers_len);
    CHECK_STATUS(perf_emergency_status(monitor, &small), PERF_ERR_INVALID_ARGUMENT);
    CHECK(untouched((char *)&small + sizeof(size_t), sizeof small - sizeof(size_t)));
    CHECK_STATUS(perf_emergency_status(NULL, &state), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_emergency_status(monitor, NULL), PERF_ERR_NULL_POINTER);
    perf_monitor_free(monitor);
    perf_clock_manual_free(clock);
}

/* ---- regression policy of a rules document, baselines from runs ----------------- */

static void test_regression_policy(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    perf_policy policy = PERF_POLICY_INIT;
    CHECK_OK(perf_monitor_regression_policy(monitor, &policy));
    /* The default policy, every field explicit. */
    CHECK(policy.statistics_len == 4 && policy.thresholds == NULL && policy.thresholds_len == 0);
    if (policy.statistics_len == 4) {
        CHECK(strcmp(policy.statistics[0], "p50") == 0);
        CHECK(strcmp(policy.statistics[1], "p95") == 0);
        CHECK(strcmp(policy.statistics[2], "p99") == 0);
        CHECK(strcmp(policy.statistics[3], "mean") == 0);
    }
    CHECK(policy.default_threshold == 0.20 && policy.alpha == 0.05);
    CHECK(policy.min_samples == 30 && policy.noise == 0.01);
    CHECK(policy.resamples == 500 && policy.seed == 0);
    perf_policy_free(&policy);
    CHECK(policy.statistics == NULL && policy.statistics_len == 0);

    CHECK_OK(perf_rules_load_json(
        monitor,
        "{\"version\": 1, \"regression\": {\"statistics\": [\"p95\", \"p99.9\"], "
        "\"threshold\": 0.1, \"thresholds\": {\"p99.9\": 0.5}, \"alpha\": 0.01, "
        "\"min_samples\": 0, \"noise\": 0, \"resamples\": 200, \"seed\": 7}}",
        NULL));
    CHECK_OK(perf_monitor_regression_policy(monitor, &policy));
    CHECK(policy.statistics_len == 2 && policy.thresholds_len == 1);
    if (policy.statistics_len == 2 && policy.thresholds_len == 1) {
        CHECK(strcmp(policy.statistics[0], "p95") == 0);
        CHECK(strcmp(policy.statistics[1], "p99.9") == 0);
        CHECK(strcmp(policy.thresholds[0].statistic, "p99.9") == 0);
        CHECK(policy.thresholds[0].threshold == 0.5);
    }
    CHECK(policy.default_threshold == 0.1 && policy.alpha == 0.01);
    CHECK(policy.resamples == 200 && policy.seed == 7);
    /* Zero would read as "the default": written as their equivalents. */
    CHECK(policy.min_samples == 1);
    CHECK(policy.noise > 0.0 && policy.noise < 1e-300);

    /* The filled policy goes to perf_compare as it is. */
    perf_baseline *base = NULL;
    CHECK_OK(perf_record(monitor, "latency", NULL, 0, 1.0));
    CHECK_OK(perf_baseline_capture(monitor, "v1", &base));
    char *report = NULL;
    bool passed = false;
    CHECK_OK(perf_compare(base, base, &policy, &report, &passed));
    CHECK(passed);
    CHECK(contains_and_free(report, "p99.9"));
    perf_policy_free(&policy);
    perf_policy_free(&policy); /* a second time does nothing */
    perf_policy_free(NULL);
    perf_baseline_free(base);

    perf_policy small = PERF_POLICY_INIT;
    small.struct_size = sizeof(size_t);
    CHECK_STATUS(perf_monitor_regression_policy(monitor, &small), PERF_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(perf_monitor_regression_policy(NULL, &policy), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_monitor_regression_policy(monitor, NULL), PERF_ERR_NULL_POINTER);
    perf_monitor_free(monitor);
}

static void test_baseline_from_runs(void) {
    perf_monitor *first = queries(100, 1.0);
    perf_monitor *second = queries(300, 1.0);
    perf_baseline *runs[2] = {NULL, NULL};
    CHECK_OK(perf_baseline_capture(first, "run-1", &runs[0]));
    CHECK_OK(perf_baseline_capture(second, "run-2", &runs[1]));
    CHECK_OK(perf_baseline_set_metadata(runs[0], "commit", "abc123"));
    perf_baseline *merged = NULL;
    CHECK_OK(perf_baseline_from_runs("v2", (const perf_baseline *const *)runs, 2, &merged));
    size_t count = 0;
    CHECK_OK(perf_baseline_series_count(merged, &count));
    CHECK(count == 1);
    char *json = NULL;
    CHECK_OK(perf_baseline_to_json(merged, &json));
    CHECK(json != NULL && strstr(json, "\"v2\"") != NULL && strstr(json, "\"commit\"") != NULL);
    CHECK(contains_and_free(json, "\"runs\": \"2\""));
    /* One run is enough. */
    perf_baseline *one = NULL;
    CHECK_OK(perf_baseline_from_runs("v3", (const perf_baseline *const *)runs, 1, &one));

    perf_baseline *untouched_out = (perf_baseline *)&count;
    CHECK_STATUS(perf_baseline_from_runs("v", NULL, 0, &untouched_out),
                 PERF_ERR_INVALID_COMPARISON);
    CHECK_MESSAGE("at least one run");
    CHECK(untouched_out == (perf_baseline *)&count);
    const perf_baseline *with_null[2] = {runs[0], NULL};
    CHECK_STATUS(perf_baseline_from_runs("v", with_null, 2, &untouched_out), PERF_ERR_NULL_POINTER);
    CHECK_MESSAGE("runs[1] is NULL");
    CHECK_STATUS(perf_baseline_from_runs("v", NULL, 2, &untouched_out), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_from_runs(NULL, with_null, 1, &untouched_out),
                 PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_baseline_from_runs(BAD_UTF8, with_null, 1, &untouched_out),
                 PERF_ERR_INVALID_UTF8);
    CHECK_STATUS(perf_baseline_from_runs("v", with_null, 1, NULL), PERF_ERR_NULL_POINTER);
    perf_baseline_free(one);
    perf_baseline_free(merged);
    perf_baseline_free(runs[0]);
    perf_baseline_free(runs[1]);
    perf_monitor_free(first);
    perf_monitor_free(second);
}

/* Every status a C caller can get was produced by a test above. Not
 * reachable from C: PERF_ERR_INVALID_RULE (rules documents report their
 * rule errors as PERF_ERR_INVALID_JSON with the field's path),
 * PERF_ERR_PANIC and PERF_ERR_UNKNOWN; the Rust unit tests of perf-ffi
 * cover their mapping and the panic boundary. */
static void test_every_status_was_seen(void) {
    for (int s = 0; s < STATUS_COUNT; s++) {
        if (s == PERF_ERR_INVALID_RULE || s == PERF_ERR_PANIC || s == PERF_ERR_UNKNOWN) {
            continue;
        }
        if (!harness_seen[s]) {
            fprintf(stderr, "no test produced %s\n", perf_status_name(s));
        }
        CHECK(harness_seen[s]);
    }
}

int main(void) {
    RUN(test_version_and_status_names);
    RUN(test_compile_time_and_run_time_versions_agree);
    RUN(test_last_error_is_per_thread);
    RUN(test_monitor_options);
    RUN(test_manual_clock);
    RUN(test_histogram_handle);
    RUN(test_series_identity_errors);
    RUN(test_one_shot_record);
    RUN(test_counters_and_gauges);
    RUN(test_counts_saturate);
    RUN(test_export_by_format_name);
    RUN(test_window_stats_and_percentiles);
    RUN(test_metric_limit);
    RUN(test_rules_evaluation_and_alerts);
    RUN(test_rules_json_errors);
    RUN(test_budgets);
    RUN(test_background_evaluator);
    RUN(test_callbacks_may_reenter);
    RUN(test_a_blocking_callback_delays_no_evaluation);
    RUN(test_unsubscribe_waits_for_a_delivery_in_progress);
    RUN(test_emergency_unsubscribe_waits_for_a_delivery_in_progress);
    RUN(test_emergency_by_hand);
    RUN(test_emergency_from_triggers);
    RUN(test_baselines_and_compare);
    RUN(test_exports);
    RUN(test_growable_output_structs);
    RUN(test_growable_input_structs);
    RUN(test_alert_history);
    RUN(test_series_list);
    RUN(test_monitor_getters_and_tick);
    RUN(test_repeat_intervals);
    RUN(test_an_old_monitor_options_struct_still_works);
    RUN(test_record_many);
    RUN(test_exposition_options);
    RUN(test_protobuf_exposition);
    RUN(test_emergency_status);
    RUN(test_regression_policy);
    RUN(test_baseline_from_runs);
    RUN(test_every_status_was_seen);
    return harness_finish("test_api");
}
