/*
 * floor.c -- what every run must at least do, in one thread: read the
 * file line by line, parse each line with jansson and serialise it back.
 * `make bench` compares synthhost's wall time with this floor.
 *
 *   floor FILE
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: floor FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long long lines = 0, out = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *v = json_loadb(line, (size_t)n, 0, NULL);
        if (v == NULL)
            continue;
        char *s = json_dumps(v, JSON_COMPACT);
        out += s ? 1 : 0;
        free(s);
        json_decref(v);
        lines++;
    }
    free(line);
    fclose(f);
    fprintf(stderr, "floor: %llu lines, %llu serialised\n", lines, out);
    return 0;
}
