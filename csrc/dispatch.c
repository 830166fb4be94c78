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

/* one instance's entry points (sweeps.h), and the level's name */
typedef struct {
    const char *level;
#define SN_TABLE_FIELD(inst, ret, name, params, args) ret(*name) params;
    SN_SWEEP_ENTRIES(SN_TABLE_FIELD, )
#undef SN_TABLE_FIELD
} sweep_table;

#define SN_TABLE_ENTRY(inst, ret, name, params, args) .name = SN_ENTRY_NAME(name, inst),
#define SN_TABLE(dt, lv) {.level = #lv, SN_SWEEP_ENTRIES(SN_TABLE_ENTRY, dt##_##lv)}

/* the float64 instances, narrowest level first */
static const sweep_table tables[] = {
    SN_TABLE(f64, baseline),
#ifdef SNODE_HAVE_AVX2
    SN_TABLE(f64, avx2),
#endif
#ifdef SNODE_HAVE_AVX512
    SN_TABLE(f64, avx512),
#endif
};
static const int n_tables = (int)(sizeof(tables) / sizeof(tables[0]));

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

static const sweep_table *active = NULL;

static int find(const char *name)
{
    for (int k = 0; k < n_tables; k++)
        if (strcmp(tables[k].level, name) == 0) return supported(name) ? k : -1;
    return -1;
}

static const sweep_table *table(void)
{
    /* benign race: every thread computes the same answer */
    const sweep_table *t = active;
    if (t) return t;
    int best = 0;
    for (int k = 1; k < n_tables; k++)
        if (supported(tables[k].level)) best = k;
    const char *env = getenv("SNODE_ISA");
    if (env && *env) {
        int k = find(env);
        if (k >= 0 && k < best) best = k;
    }
    active = &tables[best];
    return active;
}

const char *snode_isa(void) { return table()->level; }

int snode_set_isa(const char *name)
{
    int k = find(name);
    if (k < 0) return -1;
    active = &tables[k];
    return 0;
}

/* the public entry points of snode.h: the same call on the level in use */
#define SN_DISPATCH(inst, ret, name, params, args)                                             \
    ret snode_##name params { return table()->name args; }
SN_SWEEP_ENTRIES(SN_DISPATCH, )
