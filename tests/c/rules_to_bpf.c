/* Reference for the tests: build a filter with libseccomp's C API from a rule list on stdin
 * and write its BPF to stdout, so the tests can compare it with what the package exports.
 *
 * Input, one item per line (numbers in decimal):
 *   default ACTION
 *   attr ATTR VALUE
 *   arch TOKEN
 *   rule ACTION SYSCALL NCONDS [ARG OP DATUM_A DATUM_B]...
 * Exit status 0 on success; on a libseccomp error, 3 and the failing line on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char word[16];
    uint32_t def;
    scmp_filter_ctx ctx;
    int line = 1, rc = 0;

    if (scanf("%15s %" SCNu32, word, &def) != 2 || strcmp(word, "default") != 0)
        return 2;
    ctx = seccomp_init(def);
    if (ctx == NULL)
        return 3;
    while (rc == 0 && scanf("%15s", word) == 1) {
        line++;
        if (strcmp(word, "attr") == 0) {
            unsigned int attr;
            uint32_t value;
            if (scanf("%u %" SCNu32, &attr, &value) != 2)
                return 2;
            rc = seccomp_attr_set(ctx, attr, value);
        } else if (strcmp(word, "arch") == 0) {
            uint32_t token;
            if (scanf("%" SCNu32, &token) != 1)
                return 2;
            rc = seccomp_arch_add(ctx, token);
            if (rc == -EEXIST)
                rc = 0;
        } else if (strcmp(word, "rule") == 0) {
            uint32_t action;
            int syscall;
            unsigned int n, i;
            struct scmp_arg_cmp conds[6];
            if (scanf("%" SCNu32 " %d %u", &action, &syscall, &n) != 3 || n > 6)
                return 2;
            for (i = 0; i < n; i++) {
                unsigned int arg, op;
                if (scanf("%u %u %" SCNu64 " %" SCNu64, &arg, &op, &conds[i].datum_a,
                          &conds[i].datum_b) != 4)
                    return 2;
                conds[i].arg = arg;
                conds[i].op = op;
            }
            rc = seccomp_rule_add_array(ctx, action, syscall, n, conds);
        } else {
            return 2;
        }
    }
    if (rc == 0)
        rc = seccomp_export_bpf(ctx, 1);
    seccomp_release(ctx);
    if (rc != 0) {
        fprintf(stderr, "line %d: %s\n", line, strerror(-rc));
        return 3;
    }
    return 0;
}
