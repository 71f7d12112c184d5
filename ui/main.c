/* pooltop's entry point. It lives with the front ends: src/ is the engine and knows none. */
#include "app.h"

int main(int argc, char **argv)
{
	return app_main(argc, argv);
}
