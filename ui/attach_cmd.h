/* pooltop ls, attach and status: the batches this user runs, from any terminal. */
#ifndef POOLTOP_ATTACH_CMD_H
#define POOLTOP_ATTACH_CMD_H

#include "cli.h"

/* The exit status: 0, or 255 with one line on stderr (no such batch, a dead one, no terminal
 * for attach); attach returns the batch's status when it ended while attached. */
int attach_cmd_main(const struct config *cfg);

#endif
