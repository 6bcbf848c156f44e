/* Traces at their size limits: a hot loop calling 128 different small
 * functions in sequence (directly: 256 blocks per iteration; the recording
 * stops at --max-trace-blocks or at its element limit, and the rest of the
 * path becomes further traces from the exits), the same through a table of
 * function pointers (more guarded indirect branches than one trace may
 * hold), and a loop body of one long straight block of more than 64
 * instructions (a block cut by the decode limit). Checked against a switch
 * that computes the same. */
#include <stdint.h>
#include <stdio.h>

#define NI __attribute__((noinline, noclone))
#include "check.h"

NI static uint64_t f0(uint64_t x) { return x + 1; }
NI static uint64_t f1(uint64_t x) { return x ^ 18; }
NI static uint64_t f2(uint64_t x) { return x * 7; }
NI static uint64_t f3(uint64_t x) { return (x >> 1) + 3; }
NI static uint64_t f4(uint64_t x) { return x + 29; }
NI static uint64_t f5(uint64_t x) { return x ^ 70; }
NI static uint64_t f6(uint64_t x) { return x * 15; }
NI static uint64_t f7(uint64_t x) { return (x >> 1) + 7; }
NI static uint64_t f8(uint64_t x) { return x + 57; }
NI static uint64_t f9(uint64_t x) { return x ^ 122; }
NI static uint64_t f10(uint64_t x) { return x * 23; }
NI static uint64_t f11(uint64_t x) { return (x >> 1) + 11; }
NI static uint64_t f12(uint64_t x) { return x + 85; }
NI static uint64_t f13(uint64_t x) { return x ^ 174; }
NI static uint64_t f14(uint64_t x) { return x * 31; }
NI static uint64_t f15(uint64_t x) { return (x >> 1) + 15; }
NI static uint64_t f16(uint64_t x) { return x + 113; }
NI static uint64_t f17(uint64_t x) { return x ^ 226; }
NI static uint64_t f18(uint64_t x) { return x * 39; }
NI static uint64_t f19(uint64_t x) { return (x >> 1) + 19; }
NI static uint64_t f20(uint64_t x) { return x + 141; }
NI static uint64_t f21(uint64_t x) { return x ^ 278; }
NI static uint64_t f22(uint64_t x) { return x * 47; }
NI static uint64_t f23(uint64_t x) { return (x >> 1) + 23; }
NI static uint64_t f24(uint64_t x) { return x + 169; }
NI static uint64_t f25(uint64_t x) { return x ^ 330; }
NI static uint64_t f26(uint64_t x) { return x * 55; }
NI static uint64_t f27(uint64_t x) { return (x >> 1) + 27; }
NI static uint64_t f28(uint64_t x) { return x + 197; }
NI static uint64_t f29(uint64_t x) { return x ^ 382; }
NI static uint64_t f30(uint64_t x) { return x * 63; }
NI static uint64_t f31(uint64_t x) { return (x >> 1) + 31; }
NI static uint64_t f32(uint64_t x) { return x + 225; }
NI static uint64_t f33(uint64_t x) { return x ^ 434; }
NI static uint64_t f34(uint64_t x) { return x * 71; }
NI static uint64_t f35(uint64_t x) { return (x >> 1) + 35; }
NI static uint64_t f36(uint64_t x) { return x + 253; }
NI static uint64_t f37(uint64_t x) { return x ^ 486; }
NI static uint64_t f38(uint64_t x) { return x * 79; }
NI static uint64_t f39(uint64_t x) { return (x >> 1) + 39; }
NI static uint64_t f40(uint64_t x) { return x + 281; }
NI static uint64_t f41(uint64_t x) { return x ^ 538; }
NI static uint64_t f42(uint64_t x) { return x * 87; }
NI static uint64_t f43(uint64_t x) { return (x >> 1) + 43; }
NI static uint64_t f44(uint64_t x) { return x + 309; }
NI static uint64_t f45(uint64_t x) { return x ^ 590; }
NI static uint64_t f46(uint64_t x) { return x * 95; }
NI static uint64_t f47(uint64_t x) { return (x >> 1) + 47; }
NI static uint64_t f48(uint64_t x) { return x + 337; }
NI static uint64_t f49(uint64_t x) { return x ^ 642; }
NI static uint64_t f50(uint64_t x) { return x * 103; }
NI static uint64_t f51(uint64_t x) { return (x >> 1) + 51; }
NI static uint64_t f52(uint64_t x) { return x + 365; }
NI static uint64_t f53(uint64_t x) { return x ^ 694; }
NI static uint64_t f54(uint64_t x) { return x * 111; }
NI static uint64_t f55(uint64_t x) { return (x >> 1) + 55; }
NI static uint64_t f56(uint64_t x) { return x + 393; }
NI static uint64_t f57(uint64_t x) { return x ^ 746; }
NI static uint64_t f58(uint64_t x) { return x * 119; }
NI static uint64_t f59(uint64_t x) { return (x >> 1) + 59; }
NI static uint64_t f60(uint64_t x) { return x + 421; }
NI static uint64_t f61(uint64_t x) { return x ^ 798; }
NI static uint64_t f62(uint64_t x) { return x * 127; }
NI static uint64_t f63(uint64_t x) { return (x >> 1) + 63; }
NI static uint64_t f64(uint64_t x) { return x + 449; }
NI static uint64_t f65(uint64_t x) { return x ^ 850; }
NI static uint64_t f66(uint64_t x) { return x * 135; }
NI static uint64_t f67(uint64_t x) { return (x >> 1) + 67; }
NI static uint64_t f68(uint64_t x) { return x + 477; }
NI static uint64_t f69(uint64_t x) { return x ^ 902; }
NI static uint64_t f70(uint64_t x) { return x * 143; }
NI static uint64_t f71(uint64_t x) { return (x >> 1) + 71; }
NI static uint64_t f72(uint64_t x) { return x + 505; }
NI static uint64_t f73(uint64_t x) { return x ^ 954; }
NI static uint64_t f74(uint64_t x) { return x * 151; }
NI static uint64_t f75(uint64_t x) { return (x >> 1) + 75; }
NI static uint64_t f76(uint64_t x) { return x + 533; }
NI static uint64_t f77(uint64_t x) { return x ^ 1006; }
NI static uint64_t f78(uint64_t x) { return x * 159; }
NI static uint64_t f79(uint64_t x) { return (x >> 1) + 79; }
NI static uint64_t f80(uint64_t x) { return x + 561; }
NI static uint64_t f81(uint64_t x) { return x ^ 1058; }
NI static uint64_t f82(uint64_t x) { return x * 167; }
NI static uint64_t f83(uint64_t x) { return (x >> 1) + 83; }
NI static uint64_t f84(uint64_t x) { return x + 589; }
NI static uint64_t f85(uint64_t x) { return x ^ 1110; }
NI static uint64_t f86(uint64_t x) { return x * 175; }
NI static uint64_t f87(uint64_t x) { return (x >> 1) + 87; }
NI static uint64_t f88(uint64_t x) { return x + 617; }
NI static uint64_t f89(uint64_t x) { return x ^ 1162; }
NI static uint64_t f90(uint64_t x) { return x * 183; }
NI static uint64_t f91(uint64_t x) { return (x >> 1) + 91; }
NI static uint64_t f92(uint64_t x) { return x + 645; }
NI static uint64_t f93(uint64_t x) { return x ^ 1214; }
NI static uint64_t f94(uint64_t x) { return x * 191; }
NI static uint64_t f95(uint64_t x) { return (x >> 1) + 95; }
NI static uint64_t f96(uint64_t x) { return x + 673; }
NI static uint64_t f97(uint64_t x) { return x ^ 1266; }
NI static uint64_t f98(uint64_t x) { return x * 199; }
NI static uint64_t f99(uint64_t x) { return (x >> 1) + 99; }
NI static uint64_t f100(uint64_t x) { return x + 701; }
NI static uint64_t f101(uint64_t x) { return x ^ 1318; }
NI static uint64_t f102(uint64_t x) { return x * 207; }
NI static uint64_t f103(uint64_t x) { return (x >> 1) + 103; }
NI static uint64_t f104(uint64_t x) { return x + 729; }
NI static uint64_t f105(uint64_t x) { return x ^ 1370; }
NI static uint64_t f106(uint64_t x) { return x * 215; }
NI static uint64_t f107(uint64_t x) { return (x >> 1) + 107; }
NI static uint64_t f108(uint64_t x) { return x + 757; }
NI static uint64_t f109(uint64_t x) { return x ^ 1422; }
NI static uint64_t f110(uint64_t x) { return x * 223; }
NI static uint64_t f111(uint64_t x) { return (x >> 1) + 111; }
NI static uint64_t f112(uint64_t x) { return x + 785; }
NI static uint64_t f113(uint64_t x) { return x ^ 1474; }
NI static uint64_t f114(uint64_t x) { return x * 231; }
NI static uint64_t f115(uint64_t x) { return (x >> 1) + 115; }
NI static uint64_t f116(uint64_t x) { return x + 813; }
NI static uint64_t f117(uint64_t x) { return x ^ 1526; }
NI static uint64_t f118(uint64_t x) { return x * 239; }
NI static uint64_t f119(uint64_t x) { return (x >> 1) + 119; }
NI static uint64_t f120(uint64_t x) { return x + 841; }
NI static uint64_t f121(uint64_t x) { return x ^ 1578; }
NI static uint64_t f122(uint64_t x) { return x * 247; }
NI static uint64_t f123(uint64_t x) { return (x >> 1) + 123; }
NI static uint64_t f124(uint64_t x) { return x + 869; }
NI static uint64_t f125(uint64_t x) { return x ^ 1630; }
NI static uint64_t f126(uint64_t x) { return x * 255; }
NI static uint64_t f127(uint64_t x) { return (x >> 1) + 127; }

static uint64_t (*const tab[128])(uint64_t) = {
  f0,
  f1,
  f2,
  f3,
  f4,
  f5,
  f6,
  f7,
  f8,
  f9,
  f10,
  f11,
  f12,
  f13,
  f14,
  f15,
  f16,
  f17,
  f18,
  f19,
  f20,
  f21,
  f22,
  f23,
  f24,
  f25,
  f26,
  f27,
  f28,
  f29,
  f30,
  f31,
  f32,
  f33,
  f34,
  f35,
  f36,
  f37,
  f38,
  f39,
  f40,
  f41,
  f42,
  f43,
  f44,
  f45,
  f46,
  f47,
  f48,
  f49,
  f50,
  f51,
  f52,
  f53,
  f54,
  f55,
  f56,
  f57,
  f58,
  f59,
  f60,
  f61,
  f62,
  f63,
  f64,
  f65,
  f66,
  f67,
  f68,
  f69,
  f70,
  f71,
  f72,
  f73,
  f74,
  f75,
  f76,
  f77,
  f78,
  f79,
  f80,
  f81,
  f82,
  f83,
  f84,
  f85,
  f86,
  f87,
  f88,
  f89,
  f90,
  f91,
  f92,
  f93,
  f94,
  f95,
  f96,
  f97,
  f98,
  f99,
  f100,
  f101,
  f102,
  f103,
  f104,
  f105,
  f106,
  f107,
  f108,
  f109,
  f110,
  f111,
  f112,
  f113,
  f114,
  f115,
  f116,
  f117,
  f118,
  f119,
  f120,
  f121,
  f122,
  f123,
  f124,
  f125,
  f126,
  f127,
};

static uint64_t ref(int i, uint64_t x)
{
  switch (i) {
    case 0: return x + 1;
    case 1: return x ^ 18;
    case 2: return x * 7;
    case 3: return (x >> 1) + 3;
    case 4: return x + 29;
    case 5: return x ^ 70;
    case 6: return x * 15;
    case 7: return (x >> 1) + 7;
    case 8: return x + 57;
    case 9: return x ^ 122;
    case 10: return x * 23;
    case 11: return (x >> 1) + 11;
    case 12: return x + 85;
    case 13: return x ^ 174;
    case 14: return x * 31;
    case 15: return (x >> 1) + 15;
    case 16: return x + 113;
    case 17: return x ^ 226;
    case 18: return x * 39;
    case 19: return (x >> 1) + 19;
    case 20: return x + 141;
    case 21: return x ^ 278;
    case 22: return x * 47;
    case 23: return (x >> 1) + 23;
    case 24: return x + 169;
    case 25: return x ^ 330;
    case 26: return x * 55;
    case 27: return (x >> 1) + 27;
    case 28: return x + 197;
    case 29: return x ^ 382;
    case 30: return x * 63;
    case 31: return (x >> 1) + 31;
    case 32: return x + 225;
    case 33: return x ^ 434;
    case 34: return x * 71;
    case 35: return (x >> 1) + 35;
    case 36: return x + 253;
    case 37: return x ^ 486;
    case 38: return x * 79;
    case 39: return (x >> 1) + 39;
    case 40: return x + 281;
    case 41: return x ^ 538;
    case 42: return x * 87;
    case 43: return (x >> 1) + 43;
    case 44: return x + 309;
    case 45: return x ^ 590;
    case 46: return x * 95;
    case 47: return (x >> 1) + 47;
    case 48: return x + 337;
    case 49: return x ^ 642;
    case 50: return x * 103;
    case 51: return (x >> 1) + 51;
    case 52: return x + 365;
    case 53: return x ^ 694;
    case 54: return x * 111;
    case 55: return (x >> 1) + 55;
    case 56: return x + 393;
    case 57: return x ^ 746;
    case 58: return x * 119;
    case 59: return (x >> 1) + 59;
    case 60: return x + 421;
    case 61: return x ^ 798;
    case 62: return x * 127;
    case 63: return (x >> 1) + 63;
    case 64: return x + 449;
    case 65: return x ^ 850;
    case 66: return x * 135;
    case 67: return (x >> 1) + 67;
    case 68: return x + 477;
    case 69: return x ^ 902;
    case 70: return x * 143;
    case 71: return (x >> 1) + 71;
    case 72: return x + 505;
    case 73: return x ^ 954;
    case 74: return x * 151;
    case 75: return (x >> 1) + 75;
    case 76: return x + 533;
    case 77: return x ^ 1006;
    case 78: return x * 159;
    case 79: return (x >> 1) + 79;
    case 80: return x + 561;
    case 81: return x ^ 1058;
    case 82: return x * 167;
    case 83: return (x >> 1) + 83;
    case 84: return x + 589;
    case 85: return x ^ 1110;
    case 86: return x * 175;
    case 87: return (x >> 1) + 87;
    case 88: return x + 617;
    case 89: return x ^ 1162;
    case 90: return x * 183;
    case 91: return (x >> 1) + 91;
    case 92: return x + 645;
    case 93: return x ^ 1214;
    case 94: return x * 191;
    case 95: return (x >> 1) + 95;
    case 96: return x + 673;
    case 97: return x ^ 1266;
    case 98: return x * 199;
    case 99: return (x >> 1) + 99;
    case 100: return x + 701;
    case 101: return x ^ 1318;
    case 102: return x * 207;
    case 103: return (x >> 1) + 103;
    case 104: return x + 729;
    case 105: return x ^ 1370;
    case 106: return x * 215;
    case 107: return (x >> 1) + 107;
    case 108: return x + 757;
    case 109: return x ^ 1422;
    case 110: return x * 223;
    case 111: return (x >> 1) + 111;
    case 112: return x + 785;
    case 113: return x ^ 1474;
    case 114: return x * 231;
    case 115: return (x >> 1) + 115;
    case 116: return x + 813;
    case 117: return x ^ 1526;
    case 118: return x * 239;
    case 119: return (x >> 1) + 119;
    case 120: return x + 841;
    case 121: return x ^ 1578;
    case 122: return x * 247;
    case 123: return (x >> 1) + 123;
    case 124: return x + 869;
    case 125: return x ^ 1630;
    case 126: return x * 255;
    case 127: return (x >> 1) + 127;
  }
  return 0;
}

NI static uint64_t direct_all(uint64_t x)
{
  x = f0(x);
  x = f1(x);
  x = f2(x);
  x = f3(x);
  x = f4(x);
  x = f5(x);
  x = f6(x);
  x = f7(x);
  x = f8(x);
  x = f9(x);
  x = f10(x);
  x = f11(x);
  x = f12(x);
  x = f13(x);
  x = f14(x);
  x = f15(x);
  x = f16(x);
  x = f17(x);
  x = f18(x);
  x = f19(x);
  x = f20(x);
  x = f21(x);
  x = f22(x);
  x = f23(x);
  x = f24(x);
  x = f25(x);
  x = f26(x);
  x = f27(x);
  x = f28(x);
  x = f29(x);
  x = f30(x);
  x = f31(x);
  x = f32(x);
  x = f33(x);
  x = f34(x);
  x = f35(x);
  x = f36(x);
  x = f37(x);
  x = f38(x);
  x = f39(x);
  x = f40(x);
  x = f41(x);
  x = f42(x);
  x = f43(x);
  x = f44(x);
  x = f45(x);
  x = f46(x);
  x = f47(x);
  x = f48(x);
  x = f49(x);
  x = f50(x);
  x = f51(x);
  x = f52(x);
  x = f53(x);
  x = f54(x);
  x = f55(x);
  x = f56(x);
  x = f57(x);
  x = f58(x);
  x = f59(x);
  x = f60(x);
  x = f61(x);
  x = f62(x);
  x = f63(x);
  x = f64(x);
  x = f65(x);
  x = f66(x);
  x = f67(x);
  x = f68(x);
  x = f69(x);
  x = f70(x);
  x = f71(x);
  x = f72(x);
  x = f73(x);
  x = f74(x);
  x = f75(x);
  x = f76(x);
  x = f77(x);
  x = f78(x);
  x = f79(x);
  x = f80(x);
  x = f81(x);
  x = f82(x);
  x = f83(x);
  x = f84(x);
  x = f85(x);
  x = f86(x);
  x = f87(x);
  x = f88(x);
  x = f89(x);
  x = f90(x);
  x = f91(x);
  x = f92(x);
  x = f93(x);
  x = f94(x);
  x = f95(x);
  x = f96(x);
  x = f97(x);
  x = f98(x);
  x = f99(x);
  x = f100(x);
  x = f101(x);
  x = f102(x);
  x = f103(x);
  x = f104(x);
  x = f105(x);
  x = f106(x);
  x = f107(x);
  x = f108(x);
  x = f109(x);
  x = f110(x);
  x = f111(x);
  x = f112(x);
  x = f113(x);
  x = f114(x);
  x = f115(x);
  x = f116(x);
  x = f117(x);
  x = f118(x);
  x = f119(x);
  x = f120(x);
  x = f121(x);
  x = f122(x);
  x = f123(x);
  x = f124(x);
  x = f125(x);
  x = f126(x);
  x = f127(x);
  return x;
}

/* 80 dependent adds and xors: one block cut at 64 instructions. */
NI static uint64_t straight(uint64_t x)
{
  uint64_t r;
  __asm__("mov %1, %0\n"
          ".rept 40\n"
          "add $0x1234, %0\n"
          "xor $0x55, %0\n"
          ".endr\n"
          : "=&r"(r) : "r"(x) : "cc");
  return r;
}

int main(void)
{
  uint64_t got = 0, want = 0;
  for (int i = 0; i < 3000; i++) {
    got += direct_all((uint64_t)i);
    uint64_t x = (uint64_t)i;
    for (int k = 0; k < 128; k++)
      x = ref(k, x);
    want += x;
  }
  check("128 direct calls per iteration", got, want);

  got = want = 0;
  for (int i = 0; i < 3000; i++) {
    uint64_t x = (uint64_t)i, y = (uint64_t)i;
    int rot = i < 1500 ? 0 : i % 5;
    for (int k = 0; k < 128; k++) {
      x = tab[(k + rot) & 127](x);
      y = ref((k + rot) & 127, y);
    }
    got += x;
    want += y;
  }
  check("128 indirect calls per iteration", got, want);

  got = want = 0;
  for (int i = 0; i < 20000; i++) {
    got += straight((uint64_t)i);
    uint64_t x = (uint64_t)i;
    for (int k = 0; k < 40; k++)
      x = (x + 0x1234) ^ 0x55;
    want += x;
  }
  check("straight block of 80 instructions", got, want);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
