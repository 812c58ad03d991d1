/*
 * test_cli.c - the cquant command line as a user meets it, driven as a
 * real process: `cquant run` with hot reload while it runs, `cquant
 * backtest` (determinism, sweeps), and bad command lines (one line, exit 2).
 */
#define _GNU_SOURCE 1 /* strcasestr, posix_spawn_file_actions_addchdir_np */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cquant/cache.h"
#include "cquant/journal.h"
#include "support/cq_test.h"

extern char **environ;

static char g_dir[256];
static const char *cquant = CQ_BINARY_DIR "/cquant";

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/cq_test_cli_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
}

static const char *path(const char *name)
{
    static char buf[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* Write a file atomically (write + rename), as editors do. */
static void write_file(const char *p, const char *text)
{
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    FILE *f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(rename(tmp, p), 0);
}

typedef struct proc {
    pid_t pid;
    int fd;          /* stdout+stderr of the child */
    char out[1 << 20];
    size_t len;
} proc_t;

static void spawn(proc_t *p, char *const argv[])
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addchdir_np(&fa, g_dir);
    ck_assert_int_eq(posix_spawn(&p->pid, argv[0], &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    p->fd = fds[0];
    p->len = 0;
    p->out[0] = 0;
}

/* Read what is available for up to ms milliseconds. 0 at EOF. */
static int pump(proc_t *p, int ms)
{
    struct pollfd pfd = {p->fd, POLLIN, 0};
    if (poll(&pfd, 1, ms) <= 0)
        return 1;
    ssize_t n = read(p->fd, p->out + p->len, sizeof p->out - 1 - p->len);
    if (n <= 0)
        return 0;
    p->len += (size_t)n;
    p->out[p->len] = 0;
    return 1;
}

/* Wait until `what` appears after offset `from`; returns its offset. */
static size_t wait_for(proc_t *p, size_t from, const char *what, int seconds)
{
    time_t end = time(NULL) + seconds;
    for (;;) {
        const char *hit = strstr(p->out + from, what);
        if (hit)
            return (size_t)(hit - p->out);
        if (time(NULL) > end || !pump(p, 100))
            ck_abort_msg("waited %d s for '%s'; output:\n%s", seconds, what, p->out + (p->len > 6000 ? p->len - 6000 : 0));
    }
}

static int finish(proc_t *p)
{
    while (pump(p, 1000))
        ;
    close(p->fd);
    int st;
    ck_assert_int_eq(waitpid(p->pid, &st, 0), p->pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run to the end; returns the exit status; output in p->out. */
static int run(proc_t *p, char *const argv[])
{
    spawn(p, argv);
    return finish(p);
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *h = strstr(s, what); h; h = strstr(h + 1, what))
        n++;
    return n;
}

/* ---- hot reload while `cquant run` runs ------------------------------------------ */

static const char *V1 =
    "local S = {}\n"
    "local n, id, last = 0, nil, nil\n"
    "local sym, venue = params.instrument:match('^([^.]+)%.(.+)$')\n"
    "function S.on_start()\n"
    "  bus.subscribe('data.trades.' .. venue .. '.' .. sym, function(t)\n"
    "    n = n + 1\n"
    "    if not id then\n"
    "      id = exec.submit{ instrument = params.instrument, side = 'BUY', type = 'MARKET', qty = 0.001 }\n"
    "      log.info('v1 submitted %s', id)\n"
    "    end\n"
    "  end)\n"
    "  timer.every(100, function() log.info('v1 n=%d', n) end)\n"
    "end\n"
    "function S.on_fill(f) log.info('v1 fill %s', f:id()) end\n"
    "function S.on_save() return { n = n, id = id } end\n"
    "return S\n";

static const char *BROKEN = "local S = {}\nfunction S.on_start(\n  oops here\nreturn S\n";

static const char *V2 =
    "local S = {}\n"
    "local n, id, last, doubles = 0, nil, nil, 0\n"
    "local sym, venue = params.instrument:match('^([^.]+)%.(.+)$')\n"
    "local function on_trade(t)\n"
    "  n = n + 1\n"
    "  if last and t.trade_id == last then doubles = doubles + 1 end\n"
    "  last = t.trade_id\n"
    "end\n"
    "function S.on_start()\n"
    "  bus.subscribe('data.trades.' .. venue .. '.' .. sym, on_trade)\n"
    "  timer.every(100, function() log.info('v2 n=%d doubles=%d', n, doubles) end)\n"
    "end\n"
    "function S.on_reload(st)\n"
    "  n, id = st.n, st.id\n"
    "  log.info('v2 reloaded n=%d id=%s', n, id)\n"
    "end\n"
    "function S.on_fill(f) log.info('v2 fill %s', f:id()) end\n"
    "function S.on_save() return { n = n, id = id } end\n"
    "return S\n";

static const char *V3_BAD_RELOAD =
    "local S = {}\n"
    "function S.on_reload(st) error('v3 refuses') end\n"
    "return S\n";

START_TEST(test_cli_run_hot_reload_keeps_state_orders_and_the_old_version_on_errors)
{
    write_file(path("hr.lua"), V1);
    char *argv[] = {(char *)cquant, "run", (char *)path("hr.lua"), "--venue", "sim", "--no-journal",
                    "--latency-ms", "1500", "--duration", "30", NULL};
    static proc_t p;
    spawn(&p, argv);
    size_t at = wait_for(&p, 0, "v1 submitted ", 10);
    at = wait_for(&p, at, "v1 n=", 5);

    /* a syntax error: the old version keeps running, the message has file:line */
    write_file(path("hr.lua"), BROKEN);
    at = wait_for(&p, at, "kept the running version", 5);
    ck_assert_ptr_nonnull(strstr(p.out + at, "hr.lua:"));
    at = wait_for(&p, at, "v1 n=", 5);

    /* the new version takes over with the state; the order sent by v1
     * (1.5 s each way) reports its fill to v2 */
    write_file(path("hr.lua"), V2);
    size_t rel = wait_for(&p, at, "now runs version 2", 5);
    size_t st = wait_for(&p, at, "v2 reloaded n=", 5); /* logged before the reload line */
    int n_reloaded = atoi(p.out + st + strlen("v2 reloaded n="));
    ck_assert_int_gt(n_reloaded, 0);
    size_t fill = wait_for(&p, rel, "v2 fill ", 8);
    (void)fill;
    at = wait_for(&p, rel, "v2 n=", 5);
    ck_assert_int_ge(atoi(p.out + at + 5), n_reloaded);

    /* an error in the new on_reload keeps v2 */
    write_file(path("hr.lua"), V3_BAD_RELOAD);
    size_t kept = wait_for(&p, at, "kept the running version", 5);
    ck_assert_ptr_nonnull(strstr(p.out + kept, "v3 refuses"));
    at = wait_for(&p, kept, "v2 n=", 5);
    kill(p.pid, SIGTERM);
    int status = finish(&p);
    ck_assert_int_eq(status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "SIGTERM: stopping"));
    /* after the reload, v1 code never ran again; v2 never saw a trade twice */
    ck_assert_ptr_null(strstr(p.out + rel, "v1 n="));
    ck_assert_ptr_null(strstr(p.out + rel, "v1 fill"));
    ck_assert_int_eq(count(p.out, "v2 fill "), 1);
    ck_assert_ptr_null(strstr(p.out, "doubles=1"));
    ck_assert_int_eq(count(p.out, "now runs version"), 1);
}
END_TEST

/* ---- backtest --------------------------------------------------------------------- */

static void generate(const char *out, const char *minutes)
{
    static proc_t p;
    char *argv[] = {(char *)cquant, "generate", "--seed", "3", "--minutes", (char *)minutes, "-o", (char *)out, NULL};
    ck_assert_msg(run(&p, argv) == 0, "%s", p.out);
}

static int same_file(const char *a, const char *b)
{
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

START_TEST(test_cli_backtest_twice_gives_identical_files)
{
    generate(path("m.cqd"), "20");
    static proc_t p;
    char strat[600];
    snprintf(strat, sizeof strat, "%s/strategies/market_maker.lua", CQ_SOURCE_DIR);
    for (int i = 1; i <= 2; i++) {
        char out[64];
        snprintf(out, sizeof out, "out%d", i);
        char *argv[] = {(char *)cquant, "backtest", strat, "--data", (char *)path("m.cqd"), "--out", (char *)path(out),
                        "--seed", "5", "--fees", "maker=0,taker=4", "--balance", "USDT=5000", NULL};
        ck_assert_msg(run(&p, argv) == 0, "%s", p.out);
        /* the summary table names what the issue asks for */
        const char *want[] = {"Sharpe", "Sortino", "drawdown", "win rate", "profit factor", "turnover", "exposure",
                              "report.html"};
        for (size_t k = 0; k < sizeof want / sizeof *want; k++)
            ck_assert_msg(strcasestr(p.out, want[k]), "summary lacks '%s':\n%s", want[k], p.out);
    }
    const char *files[] = {"report.html", "trades.csv", "orders.csv", "equity.csv"};
    for (int k = 0; k < 4; k++) {
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/out1/%s", g_dir, files[k]);
        snprintf(b, sizeof b, "%s/out2/%s", g_dir, files[k]);
        ck_assert_msg(same_file(a, b), "%s differs between two identical backtests", files[k]);
    }
}
END_TEST

START_TEST(test_cli_backtest_sweep_prints_the_grid_sorted)
{
    generate(path("m.cqd"), "30");
    static proc_t p;
    char strat[600];
    snprintf(strat, sizeof strat, "%s/strategies/sma_cross.lua", CQ_SOURCE_DIR);
    char *argv[] = {(char *)cquant, "backtest", strat, "--data", (char *)path("m.cqd"), "--param", "bar=10s",
                    "--param", "fast=3,5", "--param", "slow=8,13", "-j", "2", "--sort", "return", NULL};
    ck_assert_msg(run(&p, argv) == 0, "%s", p.out);
    ck_assert_int_eq(count(p.out, "bar=10s,fast="), 4);
    ck_assert_ptr_nonnull(strstr(p.out, "sorted by return"));
    /* sorted: the return column never increases down the table */
    double prev = 1e300;
    for (const char *l = strstr(p.out, "bar=10s,fast="); l; l = strstr(l + 1, "bar=10s,fast=")) {
        double r;
        ck_assert_int_eq(sscanf(l, "%*s %lf", &r), 1);
        ck_assert(r <= prev);
        prev = r;
    }
}
END_TEST

static void expect_exit2(const char *why, ...)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)cquant;
    va_list ap;
    va_start(ap, why);
    for (char *a; (a = va_arg(ap, char *)) != NULL && n < 31;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    static proc_t p;
    int st = run(&p, argv);
    ck_assert_msg(st == 2, "%s: exit %d, output: %s", why, st, p.out);
    ck_assert_msg(count(p.out, "\n") == 1, "%s: want one line, got: %s", why, p.out);
}

START_TEST(test_cli_bad_command_lines_exit_2_with_one_line)
{
    generate(path("m.cqd"), "1");
    write_file(path("ok.lua"), "return {}\n");
    write_file(path("syntax.lua"), "local S = {\nreturn S\n");
    write_file(path("notable.lua"), "return 42\n");
    char d[600], ok[600];
    snprintf(d, sizeof d, "%s", path("m.cqd"));
    snprintf(ok, sizeof ok, "%s", path("ok.lua"));
    expect_exit2("no strategy", "backtest", "--data", d, NULL);
    expect_exit2("no data", "backtest", ok, NULL);
    expect_exit2("unknown option", "backtest", ok, "--data", d, "--frobnicate", NULL);
    expect_exit2("missing value", "backtest", ok, "--data", NULL);
    expect_exit2("bad fees", "backtest", ok, "--data", d, "--fees", "maker=x", NULL);
    expect_exit2("bad fee name", "backtest", ok, "--data", d, "--fees", "rebate=1", NULL);
    expect_exit2("bad param", "backtest", ok, "--data", d, "--param", "novalue", NULL);
    expect_exit2("bad balance", "backtest", ok, "--data", d, "--balance", "USDT=-5", NULL);
    expect_exit2("bad latency", "backtest", ok, "--data", d, "--latency-ms", "-1", NULL);
    expect_exit2("bad jobs", "backtest", ok, "--data", d, "-j", "0", NULL);
    expect_exit2("bad sort", "backtest", ok, "--data", d, "--param", "a=1,2", "--sort", "luck", NULL);
    expect_exit2("missing data file", "backtest", ok, "--data", path("nope.cqd"), NULL);
    expect_exit2("not a cqd file", "backtest", ok, "--data", ok, NULL);
    expect_exit2("syntax error", "backtest", path("syntax.lua"), "--data", d, NULL);
    expect_exit2("no table", "backtest", path("notable.lua"), "--data", d, NULL);
    expect_exit2("missing strategy", "backtest", path("absent.lua"), "--data", d, NULL);
    expect_exit2("two strategies", "backtest", ok, ok, "--data", d, NULL);
    expect_exit2("unknown instrument", "backtest", ok, "--data", d, "--instrument", "ETHUSDT.NOPE", NULL);
    expect_exit2("run: no strategy", "run", NULL);
    expect_exit2("run: unknown venue", "run", ok, "--venue", "binance", NULL);
    expect_exit2("run: data", "run", ok, "--data", d, NULL);
    expect_exit2("run: bad duration", "run", ok, "--duration", "0", NULL);
    expect_exit2("unknown command", "frobnicate", NULL);
    /* a syntax error names file:line */
    static proc_t p;
    char *argv[] = {(char *)cquant, "backtest", (char *)path("syntax.lua"), "--data", d, NULL};
    run(&p, argv);
    ck_assert_msg(strstr(p.out, "syntax.lua:2") || strstr(p.out, "syntax.lua:3"), "%s", p.out);
}
END_TEST

START_TEST(test_cli_backtest_strategy_errors_do_not_crash_and_are_reported)
{
    generate(path("m.cqd"), "2");
    write_file(path("bad.lua"),
               "local S = {}\n"
               "function S.on_start()\n"
               "  bus.subscribe('data.trades.SIM.BTCUSDT', function(t) error('boom at ' .. t.price) end)\n"
               "end\n"
               "return S\n");
    static proc_t p;
    char *argv[] = {(char *)cquant, "backtest", (char *)path("bad.lua"), "--data", (char *)path("m.cqd"),
                    "--max-errors", "3", NULL};
    int st = run(&p, argv);
    ck_assert_msg(st == 1, "exit %d: %s", st, p.out);
    ck_assert_ptr_nonnull(strstr(p.out, "boom at"));
    ck_assert_ptr_nonnull(strstr(p.out, "stopped after 3 errors"));
    ck_assert_ptr_nonnull(strstr(p.out, "bad.lua:3")); /* the traceback names the line */
}
END_TEST

static int count_open(void *user, const cq_journal_order_t *rec)
{
    (void)rec;
    (*(int *)user)++;
    return 0;
}

START_TEST(test_cli_run_sigint_stops_cleanly_and_the_journal_restores_open_orders)
{
    char strat[600];
    snprintf(strat, sizeof strat, "%s/strategies/market_maker.lua", CQ_SOURCE_DIR);
    char db[600];
    snprintf(db, sizeof db, "%s", path("j.db"));
    char *argv[] = {(char *)cquant, "run", strat, "--journal", db, "--no-watch", "--duration", "20", NULL};
    static proc_t p;
    spawn(&p, argv);
    wait_for(&p, 0, "running ", 10);
    usleep(1500 * 1000); /* quotes are placed within 250 ms of the first book */
    kill(p.pid, SIGINT);
    ck_assert_int_eq(finish(&p), 0);
    ck_assert_ptr_nonnull(strstr(p.out, "SIGINT: stopping"));
    ck_assert_ptr_nonnull(strstr(p.out, "status: "));
    /* the journal is closed cleanly and holds the quotes left working */
    cq_cache_t *cache;
    ck_assert_int_eq(cq_cache_create(&cache, NULL), 0);
    cq_journal_config_t jc = {.cache = cache};
    cq_journal_t *j;
    ck_assert_int_eq(cq_journal_open(&j, db, &jc), 0);
    int open = 0;
    ck_assert_int_eq(cq_journal_load_open(j, count_open, &open), 0);
    ck_assert_int_ge(open, 1);
    cq_journal_close(j);
    cq_cache_destroy(cache);
    /* the next run loads them back and asks the venue about each */
    char *argv2[] = {(char *)cquant, "run", strat, "--journal", db, "--no-watch", "--duration", "1", NULL};
    ck_assert_int_eq(run(&p, argv2), 0);
    ck_assert_msg(strstr(p.out, "open orders restored"), "%s", p.out);
}
END_TEST

START_TEST(test_cli_backtest_progress_bar_only_when_asked_off_a_terminal)
{
    generate(path("m.cqd"), "5");
    write_file(path("ok.lua"), "return {}\n");
    static proc_t p;
    char *argv[] = {(char *)cquant, "backtest", (char *)path("ok.lua"), "--data", (char *)path("m.cqd"), NULL};
    ck_assert_int_eq(run(&p, argv), 0);
    ck_assert_ptr_null(strstr(p.out, "ETA"));
    char *argv2[] = {(char *)cquant, "backtest", (char *)path("ok.lua"), "--data", (char *)path("m.cqd"), "--progress", NULL};
    ck_assert_int_eq(run(&p, argv2), 0);
    ck_assert_ptr_nonnull(strstr(p.out, "100.0%"));
    ck_assert_ptr_nonnull(strstr(p.out, "ev/s"));
    ck_assert_ptr_nonnull(strstr(p.out, "ETA"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cli_run_hot_reload_keeps_state_orders_and_the_old_version_on_errors);
    tcase_add_test(tc, test_cli_backtest_twice_gives_identical_files);
    tcase_add_test(tc, test_cli_backtest_sweep_prints_the_grid_sorted);
    tcase_add_test(tc, test_cli_bad_command_lines_exit_2_with_one_line);
    tcase_add_test(tc, test_cli_backtest_strategy_errors_do_not_crash_and_are_reported);
    tcase_add_test(tc, test_cli_run_sigint_stops_cleanly_and_the_journal_restores_open_orders);
    tcase_add_test(tc, test_cli_backtest_progress_bar_only_when_asked_off_a_terminal);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
