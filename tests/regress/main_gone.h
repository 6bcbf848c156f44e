/* For the tests that run after the main thread ended with pthread_exit
 * (main_thread_exit, far_transfer): waits until it really is gone. */
#ifndef MAIN_GONE_H
#define MAIN_GONE_H
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

/* Until the main thread is a zombie: its memory is gone by then (the
 * process's /proc/self files then describe none). */
static void wait_main_gone(pthread_t main_thread)
{
  pthread_join(main_thread, NULL); /* its tid word is cleared as it ends */
  for (;;) {
    char buf[512];
    int fd = open("/proc/self/stat", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
      close(fd);
    buf[n > 0 ? n : 0] = '\0';
    const char *p = strrchr(buf, ')'); /* "pid (comm) S ...": a zombie now */
    if (!p || p[2] == 'Z')
      return;
    sched_yield();
  }
}

#endif
