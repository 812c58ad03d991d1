/*
 * cq_test.c - helpers shared by the Check tests.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/cq_test.h"

#ifndef CQ_TEST_DATA_DEFAULT
#define CQ_TEST_DATA_DEFAULT "../shared/data"
#endif

#ifndef CQ_BINARY_DIR
#define CQ_BINARY_DIR "build"
#endif

const char *cq_test_cquant(void)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/cquant", CQ_BINARY_DIR);
    return access(path, X_OK) == 0 ? path : NULL;
}

int cq_test_shell(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *cq_test_data_dir(void)
{
    const char *d = getenv("CQ_TEST_DATA");
    return d && *d ? d : CQ_TEST_DATA_DEFAULT;
}

const char *cq_test_data_path(const char *rel)
{
    static char buf[4096];
    struct stat st;
    const char *dir = cq_test_data_dir();
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return buf;
}

void cq_test_skip(const char *name, const char *why)
{
    fprintf(stderr, "SKIPPED: %s: %s\n", name, why);
}

int cq_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
