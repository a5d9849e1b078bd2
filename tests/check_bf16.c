/* check_bf16: the bf16 storage type (models/bf16.h): round to nearest even, subnormals, NaN, Inf, overflow,
 * and the exact round trip of every bf16 value. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/bf16.h"

static float f32_of_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t bits_of_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* fp32 bit pattern in, expected bf16 bits out.  Each row says why. */
static const struct { uint32_t in; uint16_t out; const char *why; } ROUND[] = {
    { 0x3f800000u, 0x3f80, "1.0 exact" },
    { 0x3f808000u, 0x3f80, "1 + 2^-8: tie, kept lsb even (0): stays down" },
    { 0x3f818000u, 0x3f82, "1 + 3*2^-8: tie, kept lsb odd (1): goes up to even" },
    { 0x3f808001u, 0x3f81, "just above the tie: up" },
    { 0x3f807fffu, 0x3f80, "just below the tie: down" },
    { 0xbf818000u, 0xbf82, "negative tie, odd lsb: magnitude up to even" },
    { 0xbf808000u, 0xbf80, "negative tie, even lsb: magnitude down" },
    { 0x40490fdbu, 0x4049, "pi = 3.14159274: 0x0fdb < 0x8000, down" },
    { 0x3e2aaaabu, 0x3e2b, "1/3 = 0.333333343: 0xaaab > 0x8000, up" },
    { 0x3f7fffffu, 0x3f80, "largest float below 1 rounds up across the exponent" },
    { 0x00000001u, 0x0000, "smallest fp32 subnormal underflows to +0" },
    { 0x80000001u, 0x8000, "smallest negative fp32 subnormal underflows to -0" },
    { 0x00008000u, 0x0000, "subnormal tie, even lsb: down to 0" },
    { 0x00018000u, 0x0002, "subnormal tie, odd lsb: up to even" },
    { 0x00010000u, 0x0001, "smallest bf16 subnormal, exact" },
    { 0x007fffffu, 0x0080, "largest fp32 subnormal rounds up to the smallest normal" },
    { 0x00000000u, 0x0000, "+0" },
    { 0x80000000u, 0x8000, "-0 keeps its sign" },
    { 0x7f800000u, 0x7f80, "+Inf stays +Inf" },
    { 0xff800000u, 0xff80, "-Inf stays -Inf" },
    { 0x7f7fffffu, 0x7f80, "FLT_MAX is past the largest bf16 + half ulp: Inf" },
    { 0x7f7f7fffu, 0x7f7f, "just below the largest bf16's upper tie: largest finite bf16" },
    { 0x7f7f8000u, 0x7f80, "the tie above the largest bf16 (odd lsb): Inf" },
    { 0x7fc00000u, 0x7fc0, "quiet NaN stays quiet NaN" },
    { 0x7f800001u, 0x7fc0, "NaN with payload only in the low bits: still NaN, not Inf" },
    { 0xff800001u, 0xffc0, "negative NaN keeps its sign" },
    { 0x7fbfffffu, 0x7fff, "NaN with a high payload: quiet bit set, no carry into the exponent" },
};

START_TEST(test_round_table)
{
    bf16 h = f32_to_bf16(f32_of_bits(ROUND[_i].in));
    ck_assert_msg(h.bits == ROUND[_i].out, "%s: 0x%08x -> 0x%04x, expected 0x%04x", ROUND[_i].why,
                  (unsigned)ROUND[_i].in, (unsigned)h.bits, (unsigned)ROUND[_i].out);
}
END_TEST

START_TEST(test_nan_is_nan)
{
    ck_assert(isnan(bf16_to_f32(f32_to_bf16(f32_of_bits(0x7f800001u)))));
    ck_assert(isnan(bf16_to_f32(f32_to_bf16(NAN))));
    ck_assert(isinf(bf16_to_f32(f32_to_bf16(INFINITY))));
    ck_assert(signbit(bf16_to_f32(f32_to_bf16(-0.0f))));
}
END_TEST

/* Every one of the 65536 bf16 values widens exactly and narrows back to itself (NaNs to a quiet NaN). */
START_TEST(test_round_trip_all)
{
    for (uint32_t b = 0; b <= 0xffffu; b++) {
        bf16 h = { (uint16_t)b };
        float f = bf16_to_f32(h);
        ck_assert_uint_eq(bits_of_f32(f), b << 16);
        bf16 back = f32_to_bf16(f);
        if ((b & 0x7fffu) > 0x7f80u)
            ck_assert_uint_eq(back.bits, b | 0x0040u);
        else
            ck_assert_uint_eq(back.bits, b);
    }
}
END_TEST

/* Against an independent rounding: for seeded random finite floats, the result is one of the two
 * neighbouring bf16 values, the nearer one, and the even one on a tie (computed in double). */
START_TEST(test_round_nearest_random)
{
    srand(20240611);
    for (int i = 0; i < 200000; i++) {
        uint32_t u = ((uint32_t)rand() << 16) ^ (uint32_t)rand() ^ ((uint32_t)rand() << 30);
        float f = f32_of_bits(u);
        if (!isfinite(f))
            continue;
        uint32_t lo_bits = u & 0xffff0000u;                 /* truncation toward zero */
        double lo = (double)f32_of_bits(lo_bits);
        double hi = (double)f32_of_bits(lo_bits + 0x10000u);  /* next bf16 away from zero */
        if (((lo_bits + 0x10000u) & 0x7f800000u) == 0x7f800000u)
            hi = copysign(ldexp(1.0, 128), (double)f);         /* past the largest: round as if to 2^128 */
        double df = (double)f;
        double dlo = fabs(df - lo), dhi = fabs(hi - df);
        uint16_t want;
        if (dlo < dhi)
            want = (uint16_t)(lo_bits >> 16);
        else if (dhi < dlo)
            want = (uint16_t)((lo_bits + 0x10000u) >> 16);
        else
            want = (uint16_t)(((lo_bits >> 16) & 1u) ? (lo_bits + 0x10000u) >> 16 : lo_bits >> 16);
        ck_assert_msg(f32_to_bf16(f).bits == want, "0x%08x -> 0x%04x, expected 0x%04x", (unsigned)u,
                      (unsigned)f32_to_bf16(f).bits, (unsigned)want);
    }
}
END_TEST

START_TEST(test_arrays)
{
    const float in[5] = { 2.385f, -0.0071f, 1234.5f, 1e-40f, -3.0e38f };
    bf16 h[5];
    float back[5];
    bf16_array_from_f32(h, in, 5);
    bf16_array_to_f32(back, h, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(h[i].bits, f32_to_bf16(in[i]).bits);
        ck_assert_uint_eq(bits_of_f32(back[i]), (uint32_t)h[i].bits << 16);
        ck_assert_uint_eq(bits_of_f32(bf16_round_f32(in[i])), bits_of_f32(back[i]));
        /* relative error of a normal value is at most half a bf16 ulp: 2^-8 (8 significant bits) */
        if (fabs((double)in[i]) > 1e-37)
            ck_assert_double_le(fabs((double)back[i] - (double)in[i]) / fabs((double)in[i]), 1.0 / 256.0);
    }
}
END_TEST

static Suite *bf16_suite(void)
{
    Suite *s = suite_create("bf16");
    TCase *tc = tcase_create("f32_to_bf16");
    tcase_add_loop_test(tc, test_round_table, 0, (int)(sizeof ROUND / sizeof ROUND[0]));
    tcase_add_test(tc, test_nan_is_nan);
    tcase_add_test(tc, test_round_nearest_random);
    suite_add_tcase(s, tc);
    tc = tcase_create("bf16_to_f32");
    tcase_add_test(tc, test_round_trip_all);
    suite_add_tcase(s, tc);
    tc = tcase_create("arrays");
    tcase_add_test(tc, test_arrays);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bf16_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
