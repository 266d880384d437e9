/*
 * Multi-process mode through the C API, the way a pre-forking server uses
 * it: the parent makes a monitor (with its publisher and ticker threads
 * running) and records, then forks four children that record into the
 * handles they inherited. Every child's values must show in the parent's
 * merged view exactly once, and the parent's own values only once.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define CHILDREN 4
#define PER_CHILD 1000
#define IN_PARENT 10

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Removes the group's directory and the files in it. */
static void remove_dir(const char *path) {
    DIR *dir = opendir(path);
    if (dir == NULL) return;
    struct dirent *entry;
    char file[512];
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.' && (entry->d_name[1] == '\0' || entry->d_name[1] == '.')) continue;
        snprintf(file, sizeof file, "%s/%s", path, entry->d_name);
        unlink(file);
    }
    closedir(dir);
    rmdir(path);
}

/* One child: records through the inherited handles, then leaves with
 * _exit. Child 0 only records after perf_after_fork, and waits for its
 * own publisher to hand the values over; the others publish by hand, and
 * child 1 turns the group's emergency mode on. */
static void child(int index, perf_monitor *monitor, perf_histogram *latency, perf_counter *requests) {
    if (index == 0) perf_after_fork();
    int failures = 0;
    for (int i = 0; i < PER_CHILD; i++) {
        failures += perf_histogram_record(latency, (double)(i % 100 + 1)) != PERF_OK;
        failures += perf_counter_increment(requests, 1) != PERF_OK;
    }
    if (index == 0) {
        /* Its publisher thread hands the values over: wait (at most 10 s)
         * for a publish that started after the last record. */
        perf_multiprocess_status status = PERF_MULTIPROCESS_STATUS_INIT;
        failures += perf_monitor_multiprocess(monitor, &status) != PERF_OK;
        uint64_t after = status.publishes + 2;
        for (int waited = 0; status.publishes < after && waited < 10000; waited += 10) {
            sleep_ms(10);
            failures += perf_monitor_multiprocess(monitor, &status) != PERF_OK;
        }
        failures += status.publishes < after;
    } else if (index == 1) {
        /* The group's emergency mode: on for the parent too. */
        bool changed = false;
        failures += perf_emergency_activate(monitor, "shed load", &changed) != PERF_OK || !changed;
        failures += perf_monitor_publish(monitor) != PERF_OK;
    } else {
        failures += perf_monitor_publish(monitor) != PERF_OK;
    }
    /* Freeing the monitor publishes once more and ends its threads. */
    perf_histogram_free(latency);
    perf_counter_free(requests);
    perf_monitor_free(monitor);
    sleep_ms(50);
    _exit(failures == 0 ? 0 : 1);
}

static void test_forked_children_add_up_exactly(void) {
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/perf-core-c-mp-%ld", (long)getpid());
    remove_dir(dir);
    perf_monitor_options options = PERF_MONITOR_OPTIONS_INIT;
    options.multiprocess_dir = dir;
    options.publish_interval_ms = 10;
    perf_monitor *monitor = NULL;
    perf_histogram *latency = NULL;
    perf_counter *requests = NULL;
    CHECK_OK(perf_monitor_new_with_options(&options, &monitor));
    CHECK_OK(perf_histogram_get(monitor, "latency", NULL, 0, &latency));
    CHECK_OK(perf_counter_get(monitor, "requests", NULL, 0, &requests));
    for (int i = 0; i < IN_PARENT; i++) {
        CHECK_OK(perf_histogram_record(latency, 5.0));
        CHECK_OK(perf_counter_increment(requests, 1));
    }

    pid_t children[CHILDREN];
    for (int k = 0; k < CHILDREN; k++) {
        children[k] = fork();
        if (children[k] == 0) child(k, monitor, latency, requests);
        CHECK(children[k] > 0);
    }
    for (int k = 0; k < CHILDREN; k++) {
        int status = 0;
        CHECK(waitpid(children[k], &status, 0) == children[k]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    bool active = false;
    CHECK_OK(perf_emergency_is_active(monitor, &active));
    CHECK(active); /* turned on by child 1 */

    perf_stats stats = PERF_STATS_INIT;
    CHECK_OK(perf_stats_get(monitor, "latency", NULL, 0, &stats));
    CHECK(stats.count == CHILDREN * PER_CHILD + IN_PARENT);
    perf_monitor *local = NULL;
    CHECK_OK(perf_monitor_local(monitor, &local));
    CHECK_OK(perf_stats_get(local, "latency", NULL, 0, &stats));
    CHECK(stats.count == IN_PARENT);

    size_t archived = 99;
    CHECK_OK(perf_monitor_compact_multiprocess(monitor, &archived));
    CHECK(archived <= CHILDREN); /* the publisher thread may have been first */
    CHECK_OK(perf_stats_get(monitor, "latency", NULL, 0, &stats));
    CHECK(stats.count == CHILDREN * PER_CHILD + IN_PARENT);

    perf_multiprocess_status group = PERF_MULTIPROCESS_STATUS_INIT;
    CHECK_OK(perf_monitor_multiprocess(monitor, &group));
    CHECK(group.enabled && group.pid == (uint32_t)getpid());
    CHECK(group.live_processes == 1 && group.skipped_files == 0);
    CHECK_OK(perf_monitor_multiprocess(local, &group));
    CHECK(group.enabled);
    CHECK_OK(perf_monitor_publish(monitor));
    CHECK(group.publishes >= 1);

    perf_monitor *single = NULL;
    CHECK_OK(perf_monitor_new(&single));
    CHECK_OK(perf_monitor_multiprocess(single, &group));
    CHECK(!group.enabled && group.processes == 0);
    CHECK_OK(perf_monitor_publish(single));
    CHECK_STATUS(perf_monitor_multiprocess(NULL, &group), PERF_ERR_NULL_POINTER);
    CHECK_STATUS(perf_monitor_local(single, NULL), PERF_ERR_NULL_POINTER);
    perf_after_fork(); /* not forked: nothing to do */

    perf_monitor_free(single);
    perf_monitor_free(local);
    perf_histogram_free(latency);
    perf_counter_free(requests);
    perf_monitor_free(monitor);
    remove_dir(dir);
}

static void test_an_unusable_directory_is_an_io_error(void) {
    perf_monitor_options options = PERF_MONITOR_OPTIONS_INIT;
    options.multiprocess_dir = "/dev/null/group";
    perf_monitor *monitor = NULL;
    CHECK_STATUS(perf_monitor_new_with_options(&options, &monitor), PERF_ERR_IO);
    CHECK_MESSAGE("/dev/null/group");
    CHECK(monitor == NULL);
}

/* Gauge modes: two monitors of one group (in this process) set the same
 * gauges; "peak" merges as max, "in_flight" as the default sum, and
 * "rss" as one series per process. */
static void test_gauges_merge_by_mode(void) {
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/perf-core-c-mp-gauges-%ld", (long)getpid());
    remove_dir(dir);
    perf_gauge_mode_entry modes[] = {{"peak", "max"}, {"rss", "per_process"}};
    perf_monitor_options options = PERF_MONITOR_OPTIONS_INIT;
    options.multiprocess_dir = dir;
    options.gauge_modes = modes;
    options.gauge_modes_len = 2;
    perf_monitor *a = NULL, *b = NULL;
    CHECK_OK(perf_monitor_new_with_options(&options, &a));
    CHECK_OK(perf_monitor_new_with_options(&options, &b));
    const char *names[] = {"peak", "in_flight", "rss"};
    double values_a[] = {3, 2, 100}, values_b[] = {7, 5, 200};
    for (int i = 0; i < 3; i++) {
        perf_gauge *ga = NULL, *gb = NULL;
        CHECK_OK(perf_gauge_get(a, names[i], NULL, 0, &ga));
        CHECK_OK(perf_gauge_get(b, names[i], NULL, 0, &gb));
        CHECK_OK(perf_gauge_set(ga, values_a[i]));
        CHECK_OK(perf_gauge_set(gb, values_b[i]));
        perf_gauge_free(ga);
        perf_gauge_free(gb);
    }
    CHECK_OK(perf_monitor_publish(b));
    char *text = NULL;
    CHECK_OK(perf_export_prometheus(a, &text));
    CHECK(strstr(text, "\npeak 7\n") != NULL);
    CHECK(strstr(text, "\nin_flight 7\n") != NULL);
    char pid_line[64];
    snprintf(pid_line, sizeof pid_line, "rss{pid=\"%ld\"} 300", (long)getpid());
    CHECK(strstr(text, pid_line) != NULL); /* both monitors are this pid */
    perf_string_free(text);
    perf_monitor_free(a);
    perf_monitor_free(b);

    /* An unknown mode is refused, naming it. */
    perf_gauge_mode_entry bad[] = {{"peak", "average"}};
    options.gauge_modes = bad;
    options.gauge_modes_len = 1;
    perf_monitor *refused = NULL;
    CHECK_STATUS(perf_monitor_new_with_options(&options, &refused), PERF_ERR_INVALID_CONFIG);
    CHECK_MESSAGE("average");
    options.gauge_modes = NULL;
    options.default_gauge_mode = "median";
    CHECK_STATUS(perf_monitor_new_with_options(&options, &refused), PERF_ERR_INVALID_CONFIG);
    options.default_gauge_mode = NULL;
    options.gauge_modes_len = 1; /* with NULL gauge_modes */
    CHECK_STATUS(perf_monitor_new_with_options(&options, &refused), PERF_ERR_NULL_POINTER);
    CHECK(refused == NULL);
    remove_dir(dir);
}

int main(void) {
    RUN(test_forked_children_add_up_exactly);
    RUN(test_gauges_merge_by_mode);
    RUN(test_an_unusable_directory_is_an_io_error);
    return harness_finish("test_multiprocess");
}
