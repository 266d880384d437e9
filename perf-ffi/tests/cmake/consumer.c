/* Built by tests/cmake/CMakeLists.txt against the installed package:
 * records a value and reads it back. Exit status 0 on success. */
#include <stdio.h>
#include <string.h>

#include "perf_core.h"

int main(void) {
    perf_monitor *monitor = NULL;
    perf_stats stats = PERF_STATS_INIT;
    if (perf_monitor_new(&monitor) != PERF_OK ||
        perf_record(monitor, "cmake.consumer", NULL, 0, 2.5) != PERF_OK ||
        perf_stats_get(monitor, "cmake.consumer", NULL, 0, &stats) != PERF_OK) {
        fprintf(stderr, "consumer: %s\n", perf_last_error_message());
        perf_monitor_free(monitor);
        return 1;
    }
    perf_monitor_free(monitor);
    int ok = stats.count == 1 && stats.sum == 2.5 && strcmp(perf_version(), PERF_CORE_VERSION) == 0;
    printf("consumer: perf_core %s, count %llu\n", perf_version(), (unsigned long long)stats.count);
    return ok ? 0 : 1;
}
