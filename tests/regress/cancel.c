/* cancel: pthread_cancel of a thread blocked in pause(), and of a thread
 * spinning in asynchronous-cancel mode.
 *
 * Guards against: glibc's internal cancellation signal (SIGCANCEL, signal 32)
 * not reaching the guest thread, so pthread_cancel had no effect and
 * pthread_join waited forever. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *blocked(void *arg)
{
  (void)arg;
  for (;;)
    pause();
  return NULL;
}

static volatile int spinning;
static void *spin(void *arg)
{
  (void)arg;
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
  spinning = 1;
  for (volatile unsigned long i = 0;; i++)
    ;
  return NULL;
}

static void run(const char *what, void *(*fn)(void *))
{
  pthread_t t;
  void *res = NULL;
  if (pthread_create(&t, NULL, fn, NULL) != 0) { puts("pthread_create failed"); return; }
  usleep(20000);   /* let it reach pause() / the loop (the result is the same either way) */
  int c = pthread_cancel(t);
  int j = pthread_join(t, &res);
  printf("%s: cancel=%d join=%d canceled=%d\n", what, c, j, res == PTHREAD_CANCELED);
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  run("deferred, blocked in pause", blocked);
  run("asynchronous, spinning", spin);
  return 0;
}
