/* crc32c.c — CRC-32C: SSE 4.2 instruction or slice-by-8 tables (crc32c.h).
 *
 * The crc32 instruction takes 3 cycles and can start one every cycle, so a
 * single chain of them runs at a third of the speed the CPU allows. Long
 * buffers are cut into three lanes of LANE bytes checksummed together, the
 * second and third from 0, and joined: the CRC register is linear, so the
 * register after A then B is the one after A advanced over |B| zero bytes,
 * xor the one of B alone; advancing over LANE zero bytes is four table
 * lookups (shift_table). About 2.5x faster on the write-ahead log's 1 MiB
 * records, with the same results (the unit test compares both paths).
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82f63b78u   /* reflected Castagnoli polynomial */

#define LANE 4096   /* bytes per lane; three lanes at once */

static uint32_t table[8][256];
static uint32_t shift_table[4][256];   /* a register advanced over LANE zero bytes, by byte of the register */
static bool use_hardware;

#if defined(__x86_64__)
static void init_shift_table(void);
#endif
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
#if defined(__x86_64__)
    __builtin_cpu_init();
    use_hardware = __builtin_cpu_supports("sse4.2");
    if (use_hardware)
        init_shift_table();
#endif
}

uint32_t sl_crc32c_portable(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&init_once, init);
    const unsigned char *p = data;
    crc = ~crc;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);    /* little-endian machines only (x86-64, arm64) */
        w ^= crc;
        crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
              table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
              table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

#if defined(__x86_64__)
/* The register (no inversions) advanced over LANE zero bytes. */
__attribute__((target("sse4.2")))
static uint32_t advance_sse42(uint32_t c)
{
    uint64_t r = c;
    for (size_t i = 0; i < LANE; i += 8)
        r = __builtin_ia32_crc32di(r, 0);
    return (uint32_t)r;
}

static void init_shift_table(void)
{
    uint32_t bit[32];
    for (int b = 0; b < 32; b++)
        bit[b] = advance_sse42(1u << b);
    for (int k = 0; k < 4; k++)
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t v = 0;
            for (int b = 0; b < 8; b++)
                if (i >> b & 1)
                    v ^= bit[8 * k + b];
            shift_table[k][i] = v;
        }
}

static uint32_t shift(uint32_t c)
{
    return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^ shift_table[2][(c >> 16) & 0xff] ^
           shift_table[3][c >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t c = ~crc;
    while (n >= 3 * LANE) {
        uint64_t b = 0, d = 0;
        for (size_t i = 0; i < LANE; i += 8) {
            uint64_t w0, w1, w2;
            memcpy(&w0, p + i, 8);
            memcpy(&w1, p + LANE + i, 8);
            memcpy(&w2, p + 2 * LANE + i, 8);
            c = __builtin_ia32_crc32di(c, w0);
            b = __builtin_ia32_crc32di(b, w1);
            d = __builtin_ia32_crc32di(d, w2);
        }
        c = shift(shift((uint32_t)c) ^ (uint32_t)b) ^ (uint32_t)d;
        p += 3 * LANE;
        n -= 3 * LANE;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}
#endif

bool sl_crc32c_hardware(void)
{
    pthread_once(&init_once, init);
    return use_hardware;
}

uint32_t sl_crc32c(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
    if (sl_crc32c_hardware())
        return crc32c_sse42(crc, p, n);
#endif
    return sl_crc32c_portable(crc, p, n);
}
