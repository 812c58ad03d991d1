/*
 * app.h - subcommands of the cquant executable. Each takes argv with
 * argv[0] = the subcommand name and returns the process exit status
 * (0 ok, 1 failure, 2 bad command line).
 */
#ifndef CQ_APP_H
#define CQ_APP_H

#define CQ_VERSION "0.1.0"

int cq_app_demo(int argc, char **argv);
int cq_app_convert(int argc, char **argv);
int cq_app_dump(int argc, char **argv);
int cq_app_backtest(int argc, char **argv);
int cq_app_run(int argc, char **argv);
int cq_app_generate(int argc, char **argv);

/* Shared by demo: one backtest / one real-time run with parsed options. */
struct cq_opts;
int cq_app_backtest_run(const struct cq_opts *o);
int cq_app_run_session(const struct cq_opts *o, int banner);

#endif
