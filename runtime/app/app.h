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
int cq_app_generate(int argc, char **argv);

#endif
