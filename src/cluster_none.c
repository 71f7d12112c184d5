/* Built without hiredis: submit and collect say so in one line. */
#include <stdio.h>

#include "cluster_cmd.h"

static int cluster_none(void)
{
	fputs("pooltop: --redis: this pooltop was built without hiredis (install libhiredis-dev, "
	      "then ./bootstrap)\n",
	      stderr);
	return 255;
}

int cluster_submit_main(const struct config *cfg)
{
	(void)cfg;
	return cluster_none();
}

int cluster_collect_main(const struct config *cfg)
{
	(void)cfg;
	return cluster_none();
}
