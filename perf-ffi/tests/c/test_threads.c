/*
 * Concurrent recording through the C API: several pthreads record into one
 * shared histogram handle, one-shot into per-thread series and a shared
 * series, increment a shared counter and add to a shared gauge, while
 * another thread reads statistics and exports. Every count and sum must be
 * exact afterwards: no recorded value is lost.
 *
 * Usage: test_threads [records-per-thread]   (default 200000)
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"

#define THREADS 4

typedef struct {
    perf_monitor *monitor;
    perf_histogram *shared;
    perf_counter *requests;
    perf_gauge *in_flight;
    int index;
    long records;
    int failures;
} worker;

static atomic_bool writers_done;

/* The value a thread records at step i: 1..100, so sums are exact. */
static double value_at(long i) { return (double)(i % 100 + 1); }

static void *record(void *arg) {
    worker *w = arg;
    char index[8];
    snprintf(index, sizeof index, "%d", w->index);
    perf_tag own[] = {{"thread", index}};
    for (long i = 0; i < w->records; i++) {
        double v = value_at(i);
        w->failures += perf_histogram_record(w->shared, v) != PERF_OK;
        w->failures += perf_counter_increment(w->requests, 1) != PERF_OK;
        w->failures += perf_gauge_add(w->in_flight, 1.0) != PERF_OK;
        if (i % 10 == 0) {
            w->failures += perf_record(w->monitor, "per_thread", own, 1, v) != PERF_OK;
            w->failures += perf_record(w->monitor, "one_shot", NULL, 0, v) != PERF_OK;
        }
    }
    /* Refused values count as rejected, concurrently too. */
    w->failures += perf_histogram_record(w->shared, -1.0) != PERF_ERR_INVALID_VALUE;
    return NULL;
}

static void *read_while_recording(void *arg) {
    perf_monitor *monitor = arg;
    long reads = 0;
    while (!atomic_load(&writers_done) || reads < 3) {
        perf_stats stats = PERF_STATS_INIT;
        perf_stats_get(monitor, "shared", NULL, 0, &stats);
        char *text = NULL;
        if (perf_export_prometheus(monitor, &text) == PERF_OK) {
            perf_string_free(text);
        }
        reads++;
        struct timespec pause = {0, 2000000}; /* 2 ms: readers are not the point */
        nanosleep(&pause, NULL);
    }
    return (void *)(intptr_t)reads;
}

/* The sum of value_at(0..n-1). */
static double expected_sum(long n) {
    double sum = 0;
    for (long i = 0; i < n; i++) {
        sum += value_at(i);
    }
    return sum;
}

static long records = 200000;

static void test_concurrent_recording_is_exact(void) {
    perf_monitor *monitor = NULL;
    CHECK_OK(perf_monitor_new(&monitor));
    worker workers[THREADS];
    pthread_t threads[THREADS], reader;
    perf_histogram *shared = NULL;
    perf_counter *requests = NULL;
    perf_gauge *in_flight = NULL;
    CHECK_OK(perf_histogram_get(monitor, "shared", NULL, 0, &shared));
    CHECK_OK(perf_counter_get(monitor, "requests", NULL, 0, &requests));
    CHECK_OK(perf_gauge_get(monitor, "in_flight", NULL, 0, &in_flight));
    atomic_store(&writers_done, false);
    CHECK(pthread_create(&reader, NULL, read_while_recording, monitor) == 0);
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){monitor, shared, requests, in_flight, t, records, 0};
        CHECK(pthread_create(&threads[t], NULL, record, &workers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        CHECK(workers[t].failures == 0);
    }
    atomic_store(&writers_done, true);
    void *reads = NULL;
    CHECK(pthread_join(reader, &reads) == 0);
    CHECK((intptr_t)reads >= 3);

    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_histogram_stats(shared, &stats));
    CHECK(stats.count == (uint64_t)(THREADS * records));
    CHECK(stats.sum == THREADS * expected_sum(records));
    CHECK(stats.min == 1.0 && stats.max == 100.0);
    CHECK(stats.rejected == THREADS);
    uint64_t total = 0;
    CHECK_OK(perf_counter_value(requests, &total));
    CHECK(total == (uint64_t)(THREADS * records));
    double gauge = 0;
    CHECK_OK(perf_gauge_value(in_flight, &gauge));
    CHECK(gauge == (double)(THREADS * records));

    long one_shots = (records + 9) / 10;
    double one_shot_sum = 0;
    for (long i = 0; i < records; i += 10) {
        one_shot_sum += value_at(i);
    }
    CHECK_OK(perf_stats_get(monitor, "one_shot", NULL, 0, &stats));
    CHECK(stats.count == (uint64_t)(THREADS * one_shots));
    CHECK(stats.sum == THREADS * one_shot_sum);
    for (int t = 0; t < THREADS; t++) {
        char index[8];
        snprintf(index, sizeof index, "%d", t);
        perf_tag own[] = {{"thread", index}};
        CHECK_OK(perf_stats_get(monitor, "per_thread", own, 1, &stats));
        CHECK(stats.count == (uint64_t)one_shots && stats.sum == one_shot_sum);
    }
    perf_histogram_free(shared);
    perf_counter_free(requests);
    perf_gauge_free(in_flight);
    perf_monitor_free(monitor);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        records = atol(argv[1]);
    }
    if (records <= 0) {
        fprintf(stderr, "usage: %s [records-per-thread > 0]\n", argv[0]);
        return 2;
    }
    RUN(test_concurrent_recording_is_exact);
    return harness_finish("test_threads");
}
