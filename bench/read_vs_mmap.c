/* read_vs_mmap.c — what reading a file costs, by read(2) or by mmap, for the
 * choice in src/sources/stream.c (docs/performance.md, "Reading").
 *
 *   cc -O2 -o /tmp/read_vs_mmap bench/read_vs_mmap.c
 *   /tmp/read_vs_mmap read|mmapcopy|mmap FILE CHUNK_KIB
 *
 * read:     read(2) CHUNK_KIB at a time into one buffer (what stream.c does:
 *           straight into the batch's buffer);
 * mmapcopy: the file mapped (MADV_SEQUENTIAL), CHUNK_KIB at a time copied
 *           into the buffer (what mmap would cost while batches own their
 *           bytes);
 * mmap:     the mapping read in place (zero-copy batches: the most mmap
 *           could save).
 * Every 64th byte is read, as framing touches the data. Prints the CPU
 * seconds (user + system) and CPU seconds per GB. Run it on a file in the
 * page cache, several times.
 */
#define _DEFAULT_SOURCE   /* madvise */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static unsigned long touch(const char *p, size_t n)
{
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i += 64) sum += (unsigned char)p[i];
    return sum;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s read|mmapcopy|mmap FILE CHUNK_KIB\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    size_t chunk = (size_t)atoi(argv[3]) * 1024;
    int fd = open(argv[2], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || chunk == 0) {
        perror(argv[2]);
        return 1;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(chunk);
    if (!buf) return 1;
    unsigned long sum = 0;
    double start = cpu_seconds();
    if (strcmp(mode, "read") == 0) {
        ssize_t n;
        while ((n = read(fd, buf, chunk)) > 0) sum += touch(buf, (size_t)n);
    } else {
        char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        madvise(map, size, MADV_SEQUENTIAL);
        bool copy = strcmp(mode, "mmapcopy") == 0;
        for (size_t at = 0; at < size; at += chunk) {
            size_t n = size - at < chunk ? size - at : chunk;
            if (copy) memcpy(buf, map + at, n);
            sum += touch(copy ? buf : map + at, n);
        }
        munmap(map, size);
    }
    double spent = cpu_seconds() - start;
    printf("%s %zu KiB: %.3f CPU s, %.3f CPU s/GB (%lu)\n", mode, chunk / 1024, spent, spent / ((double)size / 1e9),
           sum % 7);
    free(buf);
    return 0;
}
