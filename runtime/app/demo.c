/*
 * demo.c - `cquant demo`: placeholder until the bus and cache land.
 */
#include <stdio.h>

#include "app/app.h"

int cq_app_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("cquant demo\n");
    return 0;
}
