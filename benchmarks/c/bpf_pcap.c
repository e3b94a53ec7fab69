/* Benchmark baseline: libpcap's classic BPF interpreter (bpf_filter) running a seccomp
 * program on a struct seccomp_data. pcap loads words big-endian, so the data is written
 * big-endian: the program then sees the values the kernel would give it.
 *   bpf_pcap PROGRAM.bpf ARCH_TOKEN NR ITERATIONS [ARG0]  ->  "<ns per run> <return value>"
 */
#include <sys/types.h>
#include <pcap/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

int main(int argc, char **argv)
{
    static struct bpf_insn prog[4096];
    unsigned char data[64];
    struct timespec a, b;
    long i, iterations;
    unsigned int ret = 0;
    static volatile unsigned long sink;
    size_t n;
    FILE *f;
    if (argc < 5 || !(f = fopen(argv[1], "rb")))
        return 2;
    n = fread(prog, sizeof(prog[0]), 4096, f);
    fclose(f);
    memset(data, 0, sizeof(data));
    put32(data, (uint32_t)atol(argv[3]));
    put32(data + 4, (uint32_t)strtoul(argv[2], NULL, 0));
    iterations = atol(argv[4]);
    if (argc > 5) /* args[0]: the program reads its low word at offset 16 (x86_64 layout) */
        put32(data + 16, (uint32_t)strtoul(argv[5], NULL, 0));
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < iterations; i++) {
        ret = bpf_filter(prog, data, sizeof(data), sizeof(data));
        sink += ret;  /* the result is used: the call stays in the loop */
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    (void)n;
    printf("%.1f %u\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / iterations,
           ret);
    return 0;
}
