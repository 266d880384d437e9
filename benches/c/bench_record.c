/*
 * Benchmark of the C API's hot path: perf_histogram_record on a handle in a
 * loop, single-threaded and on N threads at once (each with its own handle
 * to one shared series), plus the one-shot perf_record (lookup by name and
 * tags each call) for comparison. Prints nanoseconds per call, the best of
 * several rounds.
 *
 * Usage: bench_record [calls-per-round]   (default 20000000)
 * Run it with benches/c/run.sh, which builds the release library and this
 * program with -O2.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "perf_core.h"

#define ROUNDS 5
#define MAX_THREADS 8

static void check(perf_status status, const char *what) {
    if (status != PERF_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, perf_status_name((int)status),
                perf_last_error_message());
        exit(1);
    }
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Values cycle through a realistic latency spread (0.5-64 ms). */
static double value_at(long i) { return 0.5 + (double)(i & 127) * 0.5; }

typedef struct {
    perf_histogram *h;
    long calls;
    double ns;
} job;

static void *record_loop(void *arg) {
    job *j = arg;
    double start = now_ns();
    for (long i = 0; i < j->calls; i++) {
        check(perf_histogram_record(j->h, value_at(i)), "perf_histogram_record");
    }
    j->ns = now_ns() - start;
    return NULL;
}

/* Best ns per call of `threads` threads recording `calls` values each. */
static double bench_handles(perf_monitor *monitor, int threads, long calls) {
    double best = 1e30;
    job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    for (int t = 0; t < threads; t++) {
        perf_tag tags[] = {{"route", "/bench"}};
        check(perf_histogram_get(monitor, "bench.latency", tags, 1, &jobs[t].h), "get");
        jobs[t].calls = calls;
    }
    for (int round = 0; round < ROUNDS; round++) {
        for (int t = 0; t < threads; t++) {
            pthread_create(&tids[t], NULL, record_loop, &jobs[t]);
        }
        double worst = 0;
        for (int t = 0; t < threads; t++) {
            pthread_join(tids[t], NULL);
            worst = jobs[t].ns > worst ? jobs[t].ns : worst;
        }
        double per_call = worst / (double)calls;
        best = per_call < best ? per_call : best;
    }
    for (int t = 0; t < threads; t++) {
        perf_histogram_free(jobs[t].h);
    }
    return best;
}

static double bench_one_shot(perf_monitor *monitor, long calls) {
    perf_tag tags[] = {{"method", "GET"}, {"route", "/bench"}};
    double best = 1e30;
    for (int round = 0; round < ROUNDS; round++) {
        double start = now_ns();
        for (long i = 0; i < calls; i++) {
            check(perf_record(monitor, "bench.one_shot", tags, 2, value_at(i)), "perf_record");
        }
        double per_call = (now_ns() - start) / (double)calls;
        best = per_call < best ? per_call : best;
    }
    return best;
}

int main(int argc, char **argv) {
    long calls = argc > 1 ? atol(argv[1]) : 20000000L;
    if (calls <= 0) {
        fprintf(stderr, "usage: %s [calls-per-round > 0]\n", argv[0]);
        return 2;
    }
    perf_monitor *monitor = NULL;
    check(perf_monitor_new(&monitor), "perf_monitor_new");
    printf("perf_core %s, %ld calls per round, best of %d rounds\n", perf_version(), calls, ROUNDS);
    printf("perf_histogram_record, 1 thread:   %6.2f ns/call\n", bench_handles(monitor, 1, calls));
    printf("perf_histogram_record, 2 threads:  %6.2f ns/call per thread\n",
           bench_handles(monitor, 2, calls));
    printf("perf_record (name + 2 tags):       %6.2f ns/call\n",
           bench_one_shot(monitor, calls / 10 > 0 ? calls / 10 : 1));
    perf_stats stats = PERF_STATS_INIT;
    perf_tag tags[] = {{"route", "/bench"}};
    check(perf_stats_get(monitor, "bench.latency", tags, 1, &stats), "perf_stats_get");
    if (stats.count != (uint64_t)(3 * ROUNDS) * (uint64_t)calls) {
        fprintf(stderr, "lost values: count %llu\n", (unsigned long long)stats.count);
        return 1;
    }
    perf_monitor_free(monitor);
    return 0;
}
