/*
 * Run-time choice of the instruction-set level of the sweeps. sweeps.c is compiled for the
 * portable baseline and, on x86-64 with GCC or Clang, for AVX2+FMA and AVX-512; the widest one
 * the CPU supports is used, unless SNODE_ISA in the environment names a narrower one. The
 * table of an instance's entry points and the public functions that call through it are
 * generated from the list in sweeps.h.
 */
#include <stdlib.h>
#include <string.h>

#include "snode.h"
#include "sweeps.h"

/* one instance's entry points (sweeps.h), a table type per dtype */
#define SN_TABLE_FIELD(inst, SFX, ret, name, params, args) ret(*name) params;
typedef struct {
    SN_SWEEP_ENTRIES(SN_TABLE_FIELD, , , double)
} table_f64;
typedef struct {
    SN_SWEEP_ENTRIES(SN_TABLE_FIELD, , _f32, float)
} table_f32;
#undef SN_TABLE_FIELD

#define SN_TABLE_ENTRY(inst, SFX, ret, name, params, args) .name = SN_ENTRY_NAME(name, inst),
#define SN_TABLE(dt, lv, SFX, REAL) {SN_SWEEP_ENTRIES(SN_TABLE_ENTRY, dt##_##lv, SFX, REAL)}

/* the levels, narrowest first, and each dtype's instances at them, in the same order */
static const char *const levels[] = {
    "baseline",
#ifdef SNODE_HAVE_AVX2
    "avx2",
#endif
#ifdef SNODE_HAVE_AVX512
    "avx512",
#endif
};
static const table_f64 tables_f64[] = {
    SN_TABLE(f64, baseline, , double),
#ifdef SNODE_HAVE_AVX2
    SN_TABLE(f64, avx2, , double),
#endif
#ifdef SNODE_HAVE_AVX512
    SN_TABLE(f64, avx512, , double),
#endif
};
static const table_f32 tables_f32[] = {
    SN_TABLE(f32, baseline, _f32, float),
#ifdef SNODE_HAVE_AVX2
    SN_TABLE(f32, avx2, _f32, float),
#endif
#ifdef SNODE_HAVE_AVX512
    SN_TABLE(f32, avx512, _f32, float),
#endif
};
static const int n_levels = (int)(sizeof(levels) / sizeof(levels[0]));
_Static_assert(sizeof(tables_f64) / sizeof(tables_f64[0]) == sizeof(levels) / sizeof(levels[0]) &&
                   sizeof(tables_f32) / sizeof(tables_f32[0]) ==
                       sizeof(levels) / sizeof(levels[0]),
               "an instance of each dtype at every level");

static int supported(const char *name)
{
    if (strcmp(name, "baseline") == 0) return 1;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (strcmp(name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
    return 0;
}

/* the level in use, an index into levels (-1: not chosen yet) */
static int active = -1;

static int find(const char *name)
{
    for (int k = 0; k < n_levels; k++)
        if (strcmp(levels[k], name) == 0) return supported(name) ? k : -1;
    return -1;
}

static int level(void)
{
    /* benign race: every thread computes the same answer */
    int k = active;
    if (k >= 0) return k;
    int best = 0;
    for (k = 1; k < n_levels; k++)
        if (supported(levels[k])) best = k;
    const char *env = getenv("SNODE_ISA");
    if (env && *env) {
        k = find(env);
        if (k >= 0 && k < best) best = k;
    }
    active = best;
    return best;
}

const char *snode_isa(void) { return levels[level()]; }

int snode_set_isa(const char *name)
{
    int k = find(name);
    if (k < 0) return -1;
    active = k;
    return 0;
}

/* the public entry points of snode.h: the same call on the level in use */
#define SN_DISPATCH_F64(inst, SFX, ret, name, params, args)                                    \
    ret snode_##name params { return tables_f64[level()].name args; }
#define SN_DISPATCH_F32(inst, SFX, ret, name, params, args)                                    \
    ret snode_##name##_f32 params { return tables_f32[level()].name args; }
SN_SWEEP_ENTRIES(SN_DISPATCH_F64, , , double)
SN_SWEEP_ENTRIES(SN_DISPATCH_F32, , _f32, float)
