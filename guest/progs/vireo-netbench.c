/* TCP throughput between two guests, measured inside the receiving guest
 * so that boot and process start-up do not count.
 *
 *   vireo-netbench recv PORT            accept one connection, read to EOF,
 *                                       print bytes, seconds and Mbit/s
 *   vireo-netbench send HOST PORT MIB   connect and send MIB MiB
 *
 * The receiver's clock starts at the first byte and stops at EOF. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int do_recv(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0) {
        perror("vireo-netbench: listen");
        return 1;
    }
    printf("NETBENCH-LISTENING\n");
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    if (c < 0) {
        perror("vireo-netbench: accept");
        return 1;
    }
    static char buf[1 << 16];
    unsigned long long total = 0;
    double t0 = 0;
    for (;;) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0)
            break;
        if (!total)
            t0 = now();
        total += (unsigned long long)n;
    }
    double dt = now() - t0;
    printf("NETBENCH-RESULT bytes=%llu seconds=%.3f mbit=%.1f\n", total, dt, dt > 0 ? total * 8 / dt / 1e6 : 0);
    return 0;
}

static int do_send(const char *host, int port, long mib)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "vireo-netbench: bad address %s\n", host);
        return 2;
    }
    for (int i = 0; connect(s, (struct sockaddr *)&a, sizeof(a)) < 0; i++) {
        if (i == 100) {
            perror("vireo-netbench: connect");
            return 1;
        }
        close(s);
        s = socket(AF_INET, SOCK_STREAM, 0);
        usleep(100000);
    }
    static char buf[1 << 16];
    memset(buf, 0x5a, sizeof(buf));
    long long left = (long long)mib << 20;
    while (left > 0) {
        ssize_t n = write(s, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf));
        if (n <= 0) {
            perror("vireo-netbench: write");
            return 1;
        }
        left -= n;
    }
    close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "recv"))
        return do_recv(atoi(argv[2]));
    if (argc == 5 && !strcmp(argv[1], "send"))
        return do_send(argv[2], atoi(argv[3]), atol(argv[4]));
    fprintf(stderr, "usage: vireo-netbench recv PORT | send HOST PORT MIB\n");
    return 2;
}
