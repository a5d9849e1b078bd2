/* bf16: the bfloat16 storage type and its conversions.  bf16 is a storage format only:
 * arithmetic is done in fp32.  Header only, libc only; not a numeric type (no bf16 + int). */
#ifndef SWITCHSIM_BF16_H
#define SWITCHSIM_BF16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct { uint16_t bits; } bf16;      /* a struct, so bf16 + int does not compile */

#define BF16_QUIET_BIT 0x0040u               /* top mantissa bit of a bf16: set means quiet NaN */

/* Exact: a bf16 is the top 16 bits of an fp32. */
static inline float bf16_to_f32(bf16 h)
{
    uint32_t u = (uint32_t)h.bits << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Rounds to nearest, ties to even.  NaN stays NaN (made quiet, sign kept; truncating a NaN whose payload
 * sits only in the low 16 bits would otherwise give Inf).  Inf stays Inf; finite values above the largest
 * bf16 round to Inf; fp32 subnormals round like any other value (to bf16 subnormals or to signed zero). */
static inline bf16 f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (bf16){ (uint16_t)((u >> 16) | BF16_QUIET_BIT) };
    u += 0x7fffu + ((u >> 16) & 1u);         /* +half, +1 more when the kept lsb is odd: ties go to even */
    return (bf16){ (uint16_t)(u >> 16) };
}

/* out (n) <- in (n), exact. */
static inline void bf16_array_to_f32(float *out, const bf16 *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = bf16_to_f32(in[i]);
}

/* out (n) <- in (n) rounded to nearest even (f32_to_bf16). */
static inline void bf16_array_from_f32(bf16 *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = f32_to_bf16(in[i]);
}

/* fp32 value rounded to the nearest bf16 and back: what a bf16 store then load gives. */
static inline float bf16_round_f32(float f)
{
    return bf16_to_f32(f32_to_bf16(f));
}

#endif
