/* hp_syscall_unless (issue 15, item 21): a blocking call does not start
 * once a signal has arrived (-EINTR at once), and runs normally otherwise;
 * the window the signal handler moves threads out of ends at the `syscall`
 * instruction itself. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hotpath/syscall.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

START_TEST(interrupted_call_does_not_start)
{
  struct timespec century = {100l * 365 * 24 * 3600, 0};
  uint64_t interrupt = 1;
  double t0 = now();
  long r = hp_syscall_unless(SYS_nanosleep, (long)&century, 0, 0, 0, 0, 0, &interrupt);
  ck_assert_int_eq(r, -EINTR);
  ck_assert(now() - t0 < 1.0);
}
END_TEST

START_TEST(call_runs_without_a_signal)
{
  struct timespec ms = {0, 1000 * 1000};
  uint64_t interrupt = 0;
  double t0 = now();
  ck_assert_int_eq(hp_syscall_unless(SYS_nanosleep, (long)&ms, 0, 0, 0, 0, 0, &interrupt), 0);
  ck_assert(now() - t0 >= 0.001);
  /* Six arguments arrive where the kernel wants them. */
  ck_assert_int_eq(hp_syscall_unless(SYS_getpid, 0, 0, 0, 0, 0, 0, &interrupt), (long)getpid());
  char buf[1];
  ck_assert_int_eq(hp_syscall_unless(SYS_pread64, -1, (long)buf, 1, 0, 0, 0, &interrupt), -EBADF);
}
END_TEST

START_TEST(window_ends_at_the_syscall_instruction)
{
  const uint8_t *start = (const uint8_t *)(uintptr_t)hp_syscall_window_start;
  const uint8_t *end = (const uint8_t *)(uintptr_t)hp_syscall_window_end;
  const uint8_t *abort_at = (const uint8_t *)(uintptr_t)hp_syscall_window_abort;
  ck_assert(start < end && end < abort_at && end - start < 16);
  ck_assert_int_eq(end[0], 0x0f);
  ck_assert_int_eq(end[1], 0x05);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("syscall_window");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, interrupted_call_does_not_start);
  tcase_add_test(tc, call_runs_without_a_signal);
  tcase_add_test(tc, window_ends_at_the_syscall_instruction);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
