#include "cli.h"
int cli_cmd_repl(int argc, char **argv) { return EXIT_USAGE; }
