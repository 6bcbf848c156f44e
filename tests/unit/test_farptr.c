/* Unit tests for the far transfer forms (src/isa/farptr.c): operand and
 * pointer sizes per vendor (measured on AMD: REX.W reads a 16:32 pointer
 * but pushes 8 + 8 bytes; Intel's SDM: a 16:64 pointer), far returns, and
 * the pointer's address from the guest registers. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "hotpath/farptr.h"

static struct hp_far dec(const uint8_t *b, unsigned n, bool amd)
{
  struct hp_far f;
  ck_assert(hp_far_decode(b, n, amd, &f));
  return f;
}

START_TEST(jmp_call_sizes)
{
  static const uint8_t j32[] = {0xff, 0x2f}, j64[] = {0x48, 0xff, 0x2f}, j16[] = {0x66, 0xff, 0x2f},
                       c32[] = {0xff, 0x1f}, c6648[] = {0x66, 0x48, 0xff, 0x1f}, c4866[] = {0x48, 0x66, 0xff, 0x1f};
  struct hp_far f = dec(j32, 2, true);
  ck_assert_uint_eq(f.kind, HP_FAR_JMP);
  ck_assert_uint_eq(f.offsize, 4);
  ck_assert_uint_eq(f.len, 2);
  f = dec(j64, 3, true); /* AMD ignores REX.W for the pointer */
  ck_assert_uint_eq(f.offsize, 4);
  ck_assert_uint_eq(f.opsize, 8);
  f = dec(j64, 3, false);
  ck_assert_uint_eq(f.offsize, 8);
  f = dec(j16, 3, true);
  ck_assert_uint_eq(f.offsize, 2);
  ck_assert_uint_eq(f.opsize, 2);
  f = dec(c32, 2, false);
  ck_assert_uint_eq(f.kind, HP_FAR_CALL);
  ck_assert_uint_eq(f.opsize, 4);
  f = dec(c6648, 4, true); /* REX.W last: 64-bit pushes */
  ck_assert_uint_eq(f.opsize, 8);
  ck_assert_uint_eq(f.offsize, 4);
  f = dec(c4866, 4, true); /* REX not last: ignored, 66 applies */
  ck_assert_uint_eq(f.opsize, 2);
  ck_assert_uint_eq(f.offsize, 2);
}
END_TEST

START_TEST(far_returns)
{
  static const uint8_t r[] = {0xcb}, rq[] = {0x48, 0xcb}, ri[] = {0xca, 0x08, 0x00}, rw[] = {0x66, 0xcb};
  struct hp_far f = dec(r, 1, true);
  ck_assert_uint_eq(f.kind, HP_FAR_RET);
  ck_assert_uint_eq(f.opsize, 4);
  ck_assert_uint_eq(f.imm, 0);
  ck_assert_uint_eq(dec(rq, 2, true).opsize, 8);
  ck_assert_uint_eq(dec(rw, 2, false).opsize, 2);
  f = dec(ri, 3, false);
  ck_assert_uint_eq(f.imm, 8);
  ck_assert_uint_eq(f.opsize, 4);
}
END_TEST

START_TEST(not_far)
{
  static const uint8_t jind[] = {0xff, 0x27}, reg[] = {0xff, 0xe8}, ret[] = {0xc3};
  struct hp_far f;
  ck_assert(!hp_far_decode(jind, 2, true, &f));
  ck_assert(!hp_far_decode(reg, 2, true, &f));
  ck_assert(!hp_far_decode(ret, 1, true, &f));
  static const uint8_t gs[] = {0x65, 0xff, 0x2f};
  ck_assert(!hp_far_decode(gs, 3, true, &f));
}
END_TEST

START_TEST(pointer_address)
{
  uint64_t g[16];
  for (int i = 0; i < 16; i++)
    g[i] = 0x100000 * (uint64_t)(i + 1);
  /* jmp far [rbx + rsi*4 + 0x10] */
  static const uint8_t sib[] = {0xff, 0x6c, 0xb3, 0x10};
  struct hp_far f = dec(sib, 4, true);
  ck_assert_uint_eq(hp_far_pointer_address(&f, g, 0x401000, 0), g[3] + g[6] * 4 + 0x10);
  /* call far [rip + 0x20] */
  static const uint8_t rip[] = {0xff, 0x1d, 0x20, 0x00, 0x00, 0x00};
  f = dec(rip, 6, true);
  ck_assert_uint_eq(hp_far_pointer_address(&f, g, 0x401000, 0), 0x401000 + 6 + 0x20);
  /* jmp far fs:[r9 - 8] */
  static const uint8_t fs[] = {0x64, 0x41, 0xff, 0x69, 0xf8};
  f = dec(fs, 5, true);
  ck_assert_uint_eq(hp_far_pointer_address(&f, g, 0x401000, 0x7000), g[9] - 8 + 0x7000);
  /* jmp far [eax] (67): 32-bit address */
  static const uint8_t a32[] = {0x67, 0xff, 0x28};
  g[0] = 0x1234567890ull;
  f = dec(a32, 3, true);
  ck_assert_uint_eq(hp_far_pointer_address(&f, g, 0x401000, 0), 0x34567890ull);
}
END_TEST

START_TEST(canonical)
{
  ck_assert(hp_far_canonical(0x7ffffffffff0ull, 6));
  ck_assert(!hp_far_canonical(0x7ffffffffffcull, 6));
  ck_assert(!hp_far_canonical(0x8000000000000000ull, 6));
  ck_assert(hp_far_canonical(0xffff800000000000ull, 6));
  ck_assert(!hp_far_canonical(0xfffffffffffffffcull, 6)); /* wraps */
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("farptr");
  TCase *tc = tcase_create("forms");
  tcase_add_test(tc, jmp_call_sizes);
  tcase_add_test(tc, far_returns);
  tcase_add_test(tc, not_far);
  tcase_add_test(tc, pointer_address);
  tcase_add_test(tc, canonical);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
