/* rusage.c — runs a command and prints its own resource usage, for
 * bench/run.py.
 *
 *   rusage OUT COMMAND ARGS...   writes "utime_s stime_s maxrss_kib exit" to OUT
 *
 * Why not Python's os.wait4: Linux counts the memory a process had before
 * it called exec in its peak RSS, so a command the benchmark's Python
 * starts (after the W5 corpus made it 185 MiB) reports at least that.
 * This program is small when it forks, so the command's peak is its own.
 * Standard input and output are the command's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rusage OUT COMMAND [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("rusage: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("rusage: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("rusage: wait4");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror("rusage: open");
        return 2;
    }
    fprintf(out, "%ld.%06ld %ld.%06ld %ld %d\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
            (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss,
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return fclose(out) == 0 ? 0 : 2;
}
