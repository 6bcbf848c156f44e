/* A loop trace with more side exits than the lowering keeps out of line
 * for an optimized trace (140 ifs; traces that long need
 * --max-trace-blocks above 128): the trace must be built unoptimized, not
 * make the builder retry until it gives up (it once ended in an internal
 * error). Prints x and z; "ok" or "FAILED". */
#include <stdio.h>

int main(void)
{
  int x = 0, y = 0;
  long z = 0;
  for (int i = 0; i < 1000; i++) {
    x += 1;
    if (y == 1000)
      z++;
    if (y == 1001)
      z++;
    if (y == 1002)
      z++;
    if (y == 1003)
      z++;
    if (y == 1004)
      z++;
    if (y == 1005)
      z++;
    if (y == 1006)
      z++;
    if (y == 1007)
      z++;
    if (y == 1008)
      z++;
    if (y == 1009)
      z++;
    if (y == 1010)
      z++;
    if (y == 1011)
      z++;
    if (y == 1012)
      z++;
    if (y == 1013)
      z++;
    if (y == 1014)
      z++;
    if (y == 1015)
      z++;
    if (y == 1016)
      z++;
    if (y == 1017)
      z++;
    if (y == 1018)
      z++;
    if (y == 1019)
      z++;
    if (y == 1020)
      z++;
    if (y == 1021)
      z++;
    if (y == 1022)
      z++;
    if (y == 1023)
      z++;
    if (y == 1024)
      z++;
    if (y == 1025)
      z++;
    if (y == 1026)
      z++;
    if (y == 1027)
      z++;
    if (y == 1028)
      z++;
    if (y == 1029)
      z++;
    if (y == 1030)
      z++;
    if (y == 1031)
      z++;
    if (y == 1032)
      z++;
    if (y == 1033)
      z++;
    if (y == 1034)
      z++;
    if (y == 1035)
      z++;
    if (y == 1036)
      z++;
    if (y == 1037)
      z++;
    if (y == 1038)
      z++;
    if (y == 1039)
      z++;
    if (y == 1040)
      z++;
    if (y == 1041)
      z++;
    if (y == 1042)
      z++;
    if (y == 1043)
      z++;
    if (y == 1044)
      z++;
    if (y == 1045)
      z++;
    if (y == 1046)
      z++;
    if (y == 1047)
      z++;
    if (y == 1048)
      z++;
    if (y == 1049)
      z++;
    if (y == 1050)
      z++;
    if (y == 1051)
      z++;
    if (y == 1052)
      z++;
    if (y == 1053)
      z++;
    if (y == 1054)
      z++;
    if (y == 1055)
      z++;
    if (y == 1056)
      z++;
    if (y == 1057)
      z++;
    if (y == 1058)
      z++;
    if (y == 1059)
      z++;
    if (y == 1060)
      z++;
    if (y == 1061)
      z++;
    if (y == 1062)
      z++;
    if (y == 1063)
      z++;
    if (y == 1064)
      z++;
    if (y == 1065)
      z++;
    if (y == 1066)
      z++;
    if (y == 1067)
      z++;
    if (y == 1068)
      z++;
    if (y == 1069)
      z++;
    if (y == 1070)
      z++;
    if (y == 1071)
      z++;
    if (y == 1072)
      z++;
    if (y == 1073)
      z++;
    if (y == 1074)
      z++;
    if (y == 1075)
      z++;
    if (y == 1076)
      z++;
    if (y == 1077)
      z++;
    if (y == 1078)
      z++;
    if (y == 1079)
      z++;
    if (y == 1080)
      z++;
    if (y == 1081)
      z++;
    if (y == 1082)
      z++;
    if (y == 1083)
      z++;
    if (y == 1084)
      z++;
    if (y == 1085)
      z++;
    if (y == 1086)
      z++;
    if (y == 1087)
      z++;
    if (y == 1088)
      z++;
    if (y == 1089)
      z++;
    if (y == 1090)
      z++;
    if (y == 1091)
      z++;
    if (y == 1092)
      z++;
    if (y == 1093)
      z++;
    if (y == 1094)
      z++;
    if (y == 1095)
      z++;
    if (y == 1096)
      z++;
    if (y == 1097)
      z++;
    if (y == 1098)
      z++;
    if (y == 1099)
      z++;
    if (y == 1100)
      z++;
    if (y == 1101)
      z++;
    if (y == 1102)
      z++;
    if (y == 1103)
      z++;
    if (y == 1104)
      z++;
    if (y == 1105)
      z++;
    if (y == 1106)
      z++;
    if (y == 1107)
      z++;
    if (y == 1108)
      z++;
    if (y == 1109)
      z++;
    if (y == 1110)
      z++;
    if (y == 1111)
      z++;
    if (y == 1112)
      z++;
    if (y == 1113)
      z++;
    if (y == 1114)
      z++;
    if (y == 1115)
      z++;
    if (y == 1116)
      z++;
    if (y == 1117)
      z++;
    if (y == 1118)
      z++;
    if (y == 1119)
      z++;
    if (y == 1120)
      z++;
    if (y == 1121)
      z++;
    if (y == 1122)
      z++;
    if (y == 1123)
      z++;
    if (y == 1124)
      z++;
    if (y == 1125)
      z++;
    if (y == 1126)
      z++;
    if (y == 1127)
      z++;
    if (y == 1128)
      z++;
    if (y == 1129)
      z++;
    if (y == 1130)
      z++;
    if (y == 1131)
      z++;
    if (y == 1132)
      z++;
    if (y == 1133)
      z++;
    if (y == 1134)
      z++;
    if (y == 1135)
      z++;
    if (y == 1136)
      z++;
    if (y == 1137)
      z++;
    if (y == 1138)
      z++;
    if (y == 1139)
      z++;
  }
  printf("x=%d z=%ld\n", x, z);
  int ok = x == 1000 && z == 0;
  printf("%s\n", ok ? "ok" : "FAILED");
  return !ok;
}
