#include "cli.h"
int cli_cmd_test(int argc, char **argv) { return EXIT_USAGE; }
