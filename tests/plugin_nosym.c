/* A shared object that is not a pooltop plugin: it exports no pooltop_plugin_run. */
int pooltop_plugin_runs(void);

int pooltop_plugin_runs(void)
{
	return 0;
}
