/* Commands of the einflow CLI; each returns a process exit code. */
#ifndef EF_CLI_H
#define EF_CLI_H

#include "einflow/common.h"

enum {
    EF_EXIT_OK = 0,
    EF_EXIT_INPUT = 1,
    EF_EXIT_USAGE = 2,
    EF_EXIT_VALUES = 3,
    EF_EXIT_IO = 4,
    EF_EXIT_INTERNAL = 5
};

int ef_cli_run(int argc, char **argv);
int ef_cli_validate(int argc, char **argv);

/* Prints and clears diagnostics on stderr. */
void ef_cli_print_diags(ef_diags *d);
int ef_cli_exit_code(ef_status st);

#endif
