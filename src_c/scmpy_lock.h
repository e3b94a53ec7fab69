/* The per-filter lock: a pthread mutex stored inside the filter object (no allocation).
 *
 * After fork() only the forking thread exists in the child, so a mutex another thread held
 * at that moment would stay locked forever. A fork handler bumps a generation counter in the
 * child; a lock from an older generation is re-initialised on first use there.
 */
#ifndef SCMPY_LOCK_H
#define SCMPY_LOCK_H

#include <pthread.h>

typedef struct {
	pthread_mutex_t mutex;
	unsigned int generation;
} scmpy_lock;

static unsigned int scmpy_fork_generation;

static void scmpy_after_fork_in_child(void)
{
	scmpy_fork_generation++;
}

static int scmpy_lock_install_fork_handler(void)
{
	return pthread_atfork(NULL, NULL, scmpy_after_fork_in_child);
}

static inline void scmpy_lock_init(scmpy_lock *lock)
{
	pthread_mutex_init(&lock->mutex, NULL);
	lock->generation = scmpy_fork_generation;
}

/* 1 when taken without waiting. */
static inline int scmpy_lock_try(scmpy_lock *lock)
{
	if (lock->generation != scmpy_fork_generation)
		scmpy_lock_init(lock);
	return pthread_mutex_trylock(&lock->mutex) == 0;
}

static inline void scmpy_lock_wait(scmpy_lock *lock)
{
	pthread_mutex_lock(&lock->mutex);
}

static inline void scmpy_unlock(scmpy_lock *lock)
{
	pthread_mutex_unlock(&lock->mutex);
}

static inline void scmpy_lock_destroy(scmpy_lock *lock)
{
	pthread_mutex_destroy(&lock->mutex);
}

#endif
