/* setxid: setgid/setuid in a multi-threaded program.
 *
 * Guards against: glibc's SIGSETXID (signal 33), which it sends to every other
 * thread so that each one changes its own credentials, not reaching guest
 * threads; setgid() then waited forever for the other thread to answer. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *idle(void *arg)
{
  (void)arg;
  for (;;)
    pause();
  return NULL;
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, idle, NULL) != 0) { puts("pthread_create failed"); return 1; }
  usleep(10000);   /* let the threads block in pause() */
  printf("setgid(getgid()) = %d\n", setgid(getgid()));
  printf("setuid(getuid()) = %d\n", setuid(getuid()));
  printf("setegid(getegid()) = %d\n", setegid(getegid()));
  printf("still same ids: %d\n", getgid() == getegid() && getuid() == geteuid());
  return 0;
}
