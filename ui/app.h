/* The program: parse the command line, pick a front end, run it. */
#ifndef POOLTOP_APP_H
#define POOLTOP_APP_H

/* Returns the process's exit status. */
int app_main(int argc, char **argv);

#endif
