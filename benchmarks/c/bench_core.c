/* The C floor for benchmarks/bench_core.py: the same workloads, calling libseccomp directly.
 *
 * usage: bench_core SPEC_FILE REPEATS
 * SPEC_FILE has one rule per line: "NAME" (allow unconditionally) or "NAME ARG VALUE"
 * (allow when argument ARG equals VALUE). Prints one JSON object of nanoseconds per operation,
 * the minimum over REPEATS rounds (benchmarks/bench_core.py runs it with 1, once per round).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct rule { char name[64]; int arg; uint64_t value; };
static struct rule rules[1024];
static int nrules;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine may be shared */
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static scmp_filter_ctx build_n(int n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	for (int i = 0; i < n; i++) {
		int rc, nr = seccomp_syscall_resolve_name(rules[i].name);
		if (rules[i].arg < 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		else
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      SCMP_CMP(rules[i].arg, SCMP_CMP_EQ, rules[i].value));
		if (rc < 0) {
			fprintf(stderr, "rule %s: %s\n", rules[i].name, strerror(-rc));
			exit(1);
		}
	}
	return ctx;
}

static scmp_filter_ctx build(void)
{
	return build_n(nrules);
}

/* Loading stacks filters, so each measurement runs in a child that loads LOADS times. */
#define LOADS 8
static double time_load(void)
{
	int fds[2];
	double best = 0;
	if (pipe(fds) < 0)
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		double t_best = 1e18;
		scmp_filter_ctx ctx = build();
		for (int i = 0; i < LOADS; i++) {
			double t0 = now_ns();
			int rc = seccomp_load(ctx);
			double t = now_ns() - t0;
			if (rc < 0)
				_exit(2);
			if (t < t_best)
				t_best = t;
		}
		if (write(fds[1], &t_best, sizeof t_best) != sizeof t_best)
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &best, sizeof best) != sizeof best)
		best = -1;
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return best;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SPEC_FILE REPEATS\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	int repeats = atoi(argv[2]);
	char line[256];
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof line, f) && nrules < 1024) {
		struct rule *r = &rules[nrules];
		unsigned long long v = 0;
		int n = sscanf(line, "%63s %d %llu", r->name, &r->arg, &v);
		if (n < 1)
			continue;
		if (n < 3)
			r->arg = -1;
		r->value = v;
		nrules++;
	}
	fclose(f);

	double build_best = 1e18, small_best = 1e18, ten_best = 1e18, resolve_best = 1e18;
	double load_best = 1e18, export_best = 1e18;
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0) {
		perror("/dev/null");
		return 2;
	}
	for (int rep = 0; rep < repeats; rep++) {
		double t0 = now_ns();
		for (int i = 0; i < 20; i++)
			seccomp_release(build());
		double t = (now_ns() - t0) / 20;
		if (t < build_best)
			build_best = t;

		/* the same, with the BPF generated and written out (where libseccomp's work on
		 * the rules ends) */
		t0 = now_ns();
		for (int i = 0; i < 10; i++) {
			scmp_filter_ctx ctx = build();
			if (seccomp_export_bpf(ctx, devnull) < 0) {
				fprintf(stderr, "seccomp_export_bpf failed\n");
				exit(1);
			}
			seccomp_release(ctx);
		}
		t = (now_ns() - t0) / 10;
		if (t < export_best)
			export_best = t;

		t0 = now_ns();
		for (int i = 0; i < 2000; i++) {
			scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
			seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(getpid), 0);
			seccomp_release(ctx);
		}
		t = (now_ns() - t0) / 2000;
		if (t < small_best)
			small_best = t;

		t0 = now_ns();
		for (int i = 0; i < 2000; i++)
			seccomp_release(build_n(10));
		t = (now_ns() - t0) / 2000;
		if (t < ten_best)
			ten_best = t;

		volatile int sink = 0;
		t0 = now_ns();
		for (int k = 0; k < 20; k++)
			for (int i = 0; i < nrules; i++)
				sink += seccomp_syscall_resolve_name(rules[i].name);
		t = (now_ns() - t0) / (20.0 * nrules);
		if (t < resolve_best)
			resolve_best = t;

		t = time_load();
		if (t > 0 && t < load_best)
			load_best = t;
	}
	printf("{\"build\": %.1f, \"export\": %.1f, \"small\": %.1f, \"ten\": %.1f, "
	       "\"resolve\": %.1f, \"load\": %.1f}\n", build_best, export_best, small_best,
	       ten_best, resolve_best, load_best);
	return 0;
}
