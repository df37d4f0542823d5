/* An example command task in C: byte_count TEXT LABEL OUT writes {"label": LABEL, "bytes": N}
 * to OUT, N being the size of TEXT. Build with: gcc -O2 -o byte_count byte_count.c
 *   command: [/opt/tasks/byte_count, "{inputs.text}", "{params.label}", "{outputs.size}"]
 * LABEL is written as it is: keep it to letters, digits, '-' and '_'.
 */
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: byte_count TEXT LABEL OUT\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (in == NULL) {
        perror(argv[1]);
        return 1;
    }
    long bytes = 0;
    while (fgetc(in) != EOF) {
        bytes++;
    }
    fclose(in);
    FILE *out = fopen(argv[3], "w");
    if (out == NULL) {
        perror(argv[3]);
        return 1;
    }
    fprintf(out, "{\"label\": \"%s\", \"bytes\": %ld}\n", argv[2], bytes);
    fclose(out);
    printf("%s: %ld bytes\n", argv[1], bytes);
    return 0;
}
