/* flipbit FILE OFFSET MASK: XORs the byte at OFFSET with MASK, in place.
 * A test tool for damage tests (shell printf cannot write every byte). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fputs("usage: flipbit FILE OFFSET MASK\n", stderr);
		return 2;
	}
	FILE *f = fopen(argv[1], "r+b");
	long off = strtol(argv[2], NULL, 10);
	int mask = (int)strtol(argv[3], NULL, 0);
	if (!f || fseek(f, off, SEEK_SET) != 0)
		return 2;
	int c = getc(f);
	if (c == EOF || fseek(f, off, SEEK_SET) != 0 || putc(c ^ mask, f) == EOF || fclose(f) != 0)
		return 2;
	return 0;
}
