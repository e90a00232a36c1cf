#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("xenci %s\n", XENCI_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: xenci --version\n");
	return argc > 1 && !strcmp(argv[1], "--help") ? 0 : 2;
}
