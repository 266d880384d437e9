/*
 * A minimal test harness for the perf-core C API tests: CHECK counts and
 * reports failed conditions, CHECK_STATUS compares a call's perf_status
 * (printing perf_last_error_message() on a mismatch) and records which
 * statuses the tests produced, RUN runs one test function.
 */
#ifndef PERF_TEST_HARNESS_H
#define PERF_TEST_HARNESS_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "perf_core.h"

#define STATUS_COUNT (PERF_ERR_INVALID_ARGUMENT + 1)

static int harness_failed_checks;
static int harness_tests_passed;
static int harness_tests_failed;
static bool harness_seen[STATUS_COUNT];

static void harness_check(bool ok, const char *what, const char *file, int line) {
    if (!ok) {
        harness_failed_checks++;
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    }
}

static perf_status harness_status(perf_status got, perf_status want, const char *call,
                                  const char *file, int line) {
    if (got != want) {
        harness_failed_checks++;
        fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", file, line,
                call, perf_status_name((int)got), perf_status_name((int)want),
                perf_last_error_message());
    } else if ((int)got >= 0 && (int)got < STATUS_COUNT) {
        harness_seen[got] = true;
    }
    return got;
}

#define CHECK(cond) harness_check((cond), #cond, __FILE__, __LINE__)
#define CHECK_STATUS(call, want) harness_status((call), (want), #call, __FILE__, __LINE__)
#define CHECK_OK(call) CHECK_STATUS(call, PERF_OK)
/* The last error message contains `text`. */
#define CHECK_MESSAGE(text) \
    harness_check(strstr(perf_last_error_message(), (text)) != NULL, \
                  "last error contains \"" text "\"", __FILE__, __LINE__)
#define CHECK_NEAR(got, want, rel) CHECK(fabs((got) - (want)) <= fabs(want) * (rel))

static void harness_run(void (*test)(void), const char *name) {
    int before = harness_failed_checks;
    test();
    if (harness_failed_checks == before) {
        harness_tests_passed++;
        printf("ok   %s\n", name);
    } else {
        harness_tests_failed++;
        printf("FAIL %s\n", name);
    }
    fflush(stdout);
}

#define RUN(test) harness_run(test, #test)

/* Prints the closing line and returns the exit status. */
static int harness_finish(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, harness_tests_passed, harness_tests_failed);
    return harness_tests_failed == 0 ? 0 : 1;
}

#endif
