/* check_chip: the chip property table of topologies/chip.c: its presets (TPU and GPU numbers against their
 * sources), the rules and physical ranges a property's value must follow, the formatting the platform writers
 * use, and the <prop> lines written.  No SimGrid here (check_platform reads the generated files back). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topologies/chip.h"

static chip_spec preset(const char *name)
{
    chip_spec c;
    ck_assert_int_eq(chip_preset(&c, name), 0);
    return c;
}

/* ---- presets ---- */

START_TEST(test_presets_tpu)
{
    chip_spec v2 = preset("tpuv2"), v3 = preset("tpuv3"), v4 = preset("tpuv4");
    /* bf16 peak per core = mxus * 128^2 * 2 * clock, SOURCES 5.1 [D] rows: 22.9, 61.6, 137.6 TFLOP/s. */
    ck_assert_double_eq(v2.bf16_flops, 22937600000000.0);
    ck_assert_double_eq(v3.bf16_flops, 61603840000000.0);
    ck_assert_double_eq(v4.bf16_flops, 137625600000000.0);
    const chip_spec *all[] = { &v2, &v3, &v4 };
    for (int i = 0; i < 3; i++) {
        const chip_spec *c = all[i];
        ck_assert_int_eq(c->family, CHIP_FAMILY_TPU);
        ck_assert_double_eq(c->bf16_flops, (double)c->mxus_per_core * c->mxu_dim * c->mxu_dim * 2.0 * c->clock_Hz);
        ck_assert_double_eq(c->fp32_vec_flops, 2048.0 * c->clock_Hz);
        ck_assert_double_eq(c->link_lat_s, 1e-6);
        ck_assert_double_eq(c->link_bw_factor, 1.0);
        ck_assert_double_eq(c->sms, 0);                    /* the GPU fields stay 0 */
        ck_assert_double_eq(c->nvlink_Bps, 0.0);
    }
    /* Per chip they agree with the published chip peaks (46, 123, 275 TFLOP/s) within 1%. */
    ck_assert_double_eq_tol(2 * v2.bf16_flops / 46e12, 1.0, 0.01);
    ck_assert_double_eq_tol(2 * v3.bf16_flops / 123e12, 1.0, 0.01);
    ck_assert_double_eq_tol(2 * v4.bf16_flops / 275e12, 1.0, 0.01);
    ck_assert_str_eq(v3.chip, "tpuv3");
    ck_assert_double_eq(v3.hbm_bytes, 17179869184.0);      /* 32 GiB per chip / 2 */
    ck_assert_double_eq(v3.hbm_Bps, 450e9);
    ck_assert_double_eq(v3.link_Bps, 100e9);
    ck_assert_double_eq(v4.link_Bps, 45e9);
    ck_assert_double_eq(v2.link_Bps, 62e9);
    ck_assert_int_eq(v3.cores_per_chip, 2);
    ck_assert_int_eq(v4.mxus_per_core, 4);
    ck_assert_int_eq(v2.wrap_unit, 16);
    ck_assert_int_eq(v3.wrap_unit, 32);
    ck_assert_int_eq(v4.wrap_unit, 4);
    ck_assert_int_eq(v3.matmul_precision, CHIP_MM_DEFAULT);   /* one bf16 pass per fp32 matmul [SOURCES 5.3] */
}
END_TEST

/* TPU v5p [SOURCES 5.4]: the published per-chip numbers, and what the preset derives from them. */
START_TEST(test_preset_v5p)
{
    chip_spec c = preset("tpuv5p");
    ck_assert_int_eq(c.family, CHIP_FAMILY_TPU);
    ck_assert_int_eq(c.cores_per_chip, 2);
    ck_assert_int_eq(c.mxus_per_core, 4);
    ck_assert_int_eq(c.mxu_dim, 128);
    ck_assert_double_eq(c.clock_Hz, 1.75e9);
    ck_assert_double_eq(c.bf16_flops, 229376000000000.0);               /* 4 x 128^2 x 2 x 1.75 GHz */
    ck_assert_double_eq_tol(c.cores_per_chip * c.bf16_flops / 459e12, 1.0, 0.001);   /* 459 TFLOP/s per chip */
    ck_assert_double_eq(c.cores_per_chip * c.hbm_bytes, 95.0 * 1073741824.0);        /* 95 GiB */
    ck_assert_double_eq(c.cores_per_chip * c.hbm_Bps, 2765e9);
    ck_assert_double_eq(6 * 2 * c.link_Bps, 1200e9);         /* 6 links, both directions: 1200 GB/s per chip */
    ck_assert_int_eq(c.wrap_unit, 4);
    ck_assert_int_eq(c.matmul_precision, CHIP_MM_DEFAULT);
}
END_TEST

START_TEST(test_presets_gpu)
{
    chip_spec h100 = preset("h100"), h200 = preset("h200");
    for (int i = 0; i < 2; i++) {            /* datasheet numbers shared by both SXM parts */
        const chip_spec *c = i ? &h200 : &h100;
        ck_assert_int_eq(c->family, CHIP_FAMILY_GPU);
        ck_assert_int_eq(c->cores_per_chip, 1);
        ck_assert_int_eq(c->sms, 132);
        ck_assert_double_eq(c->bf16_flops, 989.4e12);
        ck_assert_double_eq(c->tf32_flops, 494.7e12);
        ck_assert_double_eq(c->fp32_vec_flops, 66.9e12);
        ck_assert_double_eq(c->fp32_matmul_flops, 66.9e12);
        ck_assert_double_eq(c->onchip_bytes, 50e6);
        ck_assert_double_eq(c->nvlink_Bps, 450e9);
        ck_assert_int_eq(c->nvlink_links, 18);
        ck_assert_double_eq(c->nic_Bps, 50e9);
        ck_assert_double_eq(c->nvlink_bw_factor, 0.94);
        ck_assert_double_eq(c->nic_bw_factor, 0.99);
        ck_assert_int_eq(c->tile_m, 128);
        ck_assert_int_eq(c->tile_n, 128);
        ck_assert_int_eq(c->tile_k, 64);
        ck_assert_int_eq(c->mxus_per_core, 0);            /* the TPU fields stay 0 */
        ck_assert_int_eq(c->matmul_precision, CHIP_MM_HIGHEST);   /* the measured dataset's JAX router */
        /* fitted to the measured dataset (switchsim calibrate): physical ranges, not values */
        ck_assert(c->op_overhead_s > 1e-7 && c->op_overhead_s < 1e-4);
        ck_assert(c->mm_efficiency > 0.0 && c->mm_efficiency <= 1.0);
        ck_assert(c->hbm_efficiency > 0.0 && c->hbm_efficiency <= 1.0);
        ck_assert(c->opt_bytes_per_param > 0.0);
    }
    ck_assert_double_eq(h100.hbm_bytes, 80e9);
    ck_assert_double_eq(h100.hbm_Bps, 3.35e12);
    ck_assert_double_eq(h200.hbm_bytes, 141e9);
    ck_assert_double_eq(h200.hbm_Bps, 4.8e12);
}
END_TEST

START_TEST(test_preset_unknown)
{
    chip_spec c = { .chip = "keep" };
    ck_assert_int_eq(chip_preset(&c, "tpuv9"), -1);
    ck_assert_int_eq(chip_preset(&c, "TPUV3"), -1);
    ck_assert_int_eq(chip_preset(&c, NULL), -1);
    ck_assert_str_eq(c.chip, "keep");                      /* untouched */
    char buf[128];
    chip_preset_names(buf, sizeof buf, CHIP_FAMILY_TPU);
    ck_assert_str_eq(buf, "tpuv2, tpuv3, tpuv4 or tpuv5p");
    chip_preset_names(buf, sizeof buf, CHIP_FAMILY_GPU);
    ck_assert_str_eq(buf, "h100 or h200");
    chip_preset_names(buf, sizeof buf, -1);
    ck_assert_str_eq(buf, "tpuv2, tpuv3, tpuv4, tpuv5p, h100 or h200");
}
END_TEST

static const char *const PRESETS[] = { "tpuv2", "tpuv3", "tpuv4", "tpuv5p", "h100", "h200" };

/* Every preset follows every rule and range of the properties its family carries. */
START_TEST(test_presets_in_range)
{
    chip_spec c = preset(PRESETS[_i]);
    errbuf err = { "" };
    ck_assert_msg(chip_spec_check(&c, &err) == 0, "%s", err.msg);
}
END_TEST

START_TEST(test_spec_check_bad)
{
    chip_spec c = preset("tpuv3");
    errbuf err = { "" };
    c.clock_Hz = 2e11;
    ck_assert_int_eq(chip_spec_check(&c, &err), -1);
    ck_assert_str_eq(err.msg, "chip tpuv3: property 'clock_Hz' must be in [1e+06, 1e+11] (a physical range), "
                              "got '2e+11'");
    c = preset("h200");
    c.mm_efficiency = 1.5;
    ck_assert_int_eq(chip_spec_check(&c, &err), -1);
    ck_assert_str_eq(err.msg, "chip h200: property 'mm_efficiency' must be a number in (0, 1], got '1.5'");
}
END_TEST

/* ---- the table itself ---- */

START_TEST(test_table)
{
    ck_assert_int_le(CHIP_N_PROPS, CHIP_PROPS_MAX);
    for (int i = 0; i < CHIP_N_PROPS; i++) {
        const chip_prop *p = &CHIP_PROPS[i];
        for (int j = 0; j < i; j++) {
            ck_assert_str_ne(p->id, CHIP_PROPS[j].id);
            ck_assert_uint_ne(p->off, CHIP_PROPS[j].off);   /* one field per property */
        }
        if (p->carried != CHIP_PRESET)
            ck_assert_ptr_eq(chip_prop_find(p->id), p);
        ck_assert_ptr_nonnull(chip_prop_rule(p));
        /* a number a family must carry has a default on every preset of that family (0 is a level of an
         * enumeration, but no number's value) */
        if (p->carried == CHIP_BOTH || p->carried == CHIP_TPU || p->carried == CHIP_GPU)
            for (int k = 0; k < (int)(sizeof PRESETS / sizeof PRESETS[0]); k++) {
                chip_spec c = preset(PRESETS[k]);
                if (chip_prop_required(p, c.family) && p->kind != CHIP_K_NAME && p->kind != CHIP_K_MMPREC)
                    ck_assert_msg(chip_prop_number(&c, p) != 0, "%s has no '%s'", c.chip, p->id);
            }
    }
    ck_assert_ptr_null(chip_prop_find("cores_per_chip"));   /* a preset number, not a property */
    ck_assert_ptr_null(chip_prop_find("hbm_Bps"));
}
END_TEST

/* ---- parsing ---- */

static const struct {
    const char *id, *value;
    int range, rc;
} PARSE[] = {
    { "clock_Hz", "9.4e8", 1, 0 },
    { "clock_Hz", "0", 0, -1 },
    { "clock_Hz", "1e-300", 0, 0 },          /* follows the rule ... */
    { "clock_Hz", "1e-300", 1, -2 },         /* ... but not the physical range */
    { "clock_Hz", "9.4e8x", 0, -1 },
    { "mxus_per_core", "2", 1, 0 },
    { "mxus_per_core", "2.5", 0, -1 },
    { "mxus_per_core", "65", 1, -2 },
    { "mxus_per_core", "1000001", 0, -1 },
    { "op_overhead_s", "0", 1, 0 },
    { "op_overhead_s", "-1e-6", 0, -1 },
    { "matmul_precision", "highest", 1, 0 },
    { "matmul_precision", "HIGHEST", 1, -1 },
    { "matmul_precision", "6", 1, -1 },
    { "mm_efficiency", "1", 1, 0 },
    { "mm_efficiency", "0", 0, -1 },
    { "link_bw_factor", "0.49", 0, -1 },
    { "link_lat_factor", "101", 0, -1 },
    { "family", "gpu", 1, 0 },
    { "family", "GPU", 1, -1 },
    { "chip", "tpu-v3_b", 1, 0 },
    { "chip", "tpu v3", 1, -1 },
    { "chip", "", 1, -1 },
    { "torus", "4,4,4", 1, 0 },
    { "torus", "4", 1, -1 },
    { "torus", "4,1025", 1, -1 },
    { "wrap", "1,0", 1, 0 },
    { "wrap", "1,2", 1, -1 },
};

START_TEST(test_parse)
{
    chip_spec c = preset("tpuv3"), before = c;
    const chip_prop *p = chip_prop_find(PARSE[_i].id);
    ck_assert_ptr_nonnull(p);
    int rc = chip_prop_parse(&c, p, PARSE[_i].value, PARSE[_i].range);
    ck_assert_int_eq(rc, PARSE[_i].rc);
    if (rc != 0)
        ck_assert_int_eq(memcmp(&c, &before, sizeof c), 0);   /* untouched on failure */
}
END_TEST

/* The three levels by name, and what an fp32 matmul costs at each on a TPU [SOURCES 5.3]. */
START_TEST(test_matmul_precision)
{
    static const char *const names[] = { "default", "high", "highest" };
    static const double passes[] = { 1, 3, 6 };
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(chip_matmul_precision_name(i), names[i]);
        ck_assert_int_eq(chip_matmul_precision_parse(names[i]), i);
        ck_assert_double_eq(chip_tpu_fp32_matmul_passes(i), passes[i]);
    }
    ck_assert_ptr_null(chip_matmul_precision_name(3));
    ck_assert_ptr_null(chip_matmul_precision_name(-1));
    ck_assert_int_eq(chip_matmul_precision_parse("bf16_3x"), -1);
    ck_assert_double_eq(chip_tpu_fp32_matmul_passes(3), 0.0);
}
END_TEST

START_TEST(test_parse_fields)
{
    chip_spec c;
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(chip_prop_parse(&c, chip_prop_find("hbm_Bps_per_core"), "4.5e11", 1), 0);
    ck_assert_double_eq(c.hbm_Bps, 4.5e11);
    ck_assert_int_eq(chip_prop_parse(&c, chip_prop_find("tile_k"), "64", 1), 0);
    ck_assert_int_eq(c.tile_k, 64);
    ck_assert_int_eq(chip_prop_parse(&c, chip_prop_find("family"), "gpu", 1), 0);
    ck_assert_int_eq(c.family, CHIP_FAMILY_GPU);
    ck_assert_int_eq(chip_prop_parse(&c, chip_prop_find("torus"), "8,6,2", 1), 0);
    ck_assert_int_eq(c.ndims, 3);
    ck_assert_int_eq(c.dims[0] * 100 + c.dims[1] * 10 + c.dims[2], 862);
    ck_assert_int_eq(chip_prop_parse(&c, chip_prop_find("wrap"), "1,0,1", 1), 0);
    ck_assert_int_eq(c.wrap[0] * 100 + c.wrap[1] * 10 + c.wrap[2], 101);
    ck_assert_int_eq(chip_prop_parse(&c, chip_prop_find("chip"), "tpuv9", 1), 0);
    ck_assert_str_eq(c.chip, "tpuv9");
}
END_TEST

/* ---- formatting and writing ---- */

static const double NUMBERS[] = { 2.385e-7, 1.0 / 3.0, 61603840000000.0, 17179869184.0, 1e-6, 0.0, 450e9,
                                  6.02214076e23, 123456789.123, 4.9e-324 };

START_TEST(test_format_number)
{
    char buf[40];
    chip_format_number(buf, sizeof buf, NUMBERS[_i]);
    ck_assert_double_eq(strtod(buf, NULL), NUMBERS[_i]);
    if (NUMBERS[_i] == 1e-6)
        ck_assert_str_eq(buf, "1e-06");
    if (NUMBERS[_i] == 450e9)
        ck_assert_str_eq(buf, "4.5e+11");
}
END_TEST

/* The <prop> lines of a TPU and of a GPU: the family's properties in table order, 'family' only on a GPU. */
START_TEST(test_write_props)
{
    chip_spec c = preset("tpuv4");
    c.ndims = 3;
    c.dims[0] = c.dims[1] = c.dims[2] = 4;
    c.wrap[0] = c.wrap[1] = c.wrap[2] = 1;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(fp);
    chip_write_props(fp, &c, 2);
    fclose(fp);
    ck_assert_str_eq(buf, "  <prop id=\"chip\" value=\"tpuv4\"/>\n"
                          "  <prop id=\"mxus_per_core\" value=\"4\"/>\n"
                          "  <prop id=\"mxu_dim\" value=\"128\"/>\n"
                          "  <prop id=\"clock_Hz\" value=\"1.05e+09\"/>\n"
                          "  <prop id=\"bf16_flops_per_core\" value=\"1.376256e+14\"/>\n"
                          "  <prop id=\"fp32_vec_flops_per_core\" value=\"2.1504e+12\"/>\n"
                          "  <prop id=\"hbm_bytes_per_core\" value=\"17179869184\"/>\n"
                          "  <prop id=\"hbm_Bps_per_core\" value=\"6e+11\"/>\n"
                          "  <prop id=\"onchip_bytes_per_core\" value=\"16777216\"/>\n"
                          "  <prop id=\"op_overhead_s\" value=\"1e-06\"/>\n"
                          "  <prop id=\"matmul_precision\" value=\"default\"/>\n"
                          "  <prop id=\"torus\" value=\"4,4,4\"/>\n"
                          "  <prop id=\"wrap\" value=\"1,1,1\"/>\n"
                          "  <prop id=\"link_Bps\" value=\"4.5e+10\"/>\n"
                          "  <prop id=\"link_lat_s\" value=\"1e-06\"/>\n"
                          "  <prop id=\"link_bw_factor\" value=\"1\"/>\n"
                          "  <prop id=\"link_lat_factor\" value=\"1\"/>\n");
    free(buf);
    c = preset("h100");
    c.gpus_per_node = 8;
    c.nodes = 2;
    fp = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(fp);
    chip_write_props(fp, &c, 0);
    fclose(fp);
    ck_assert_ptr_eq(strstr(buf, "<prop id=\"family\" value=\"gpu\"/>\n<prop id=\"chip\" value=\"h100\"/>\n"), buf);
    ck_assert_ptr_nonnull(strstr(buf, "<prop id=\"gpus_per_node\" value=\"8\"/>\n<prop id=\"nodes\" value=\"2\"/>\n"));
    ck_assert_ptr_null(strstr(buf, "mxu_dim"));
    ck_assert_ptr_nonnull(strstr(buf, "<prop id=\"fp32_matmul_flops\" value=\"6.69e+13\"/>\n"
                                      "<prop id=\"tf32_flops\" value=\"4.947e+14\"/>\n"));
    ck_assert_ptr_nonnull(strstr(buf, "<prop id=\"op_overhead_s\" value=\"9.143e-06\"/>\n"
                                      "<prop id=\"matmul_precision\" value=\"highest\"/>\n"));
    ck_assert_ptr_null(strstr(buf, "nvlink_links"));               /* a preset number, not a property */
    ck_assert_ptr_null(strstr(buf, "cores_per_chip"));
    free(buf);
}
END_TEST

static Suite *chip_suite(void)
{
    Suite *s = suite_create("chip");
    TCase *tc = tcase_create("presets");
    tcase_add_test(tc, test_presets_tpu);
    tcase_add_test(tc, test_presets_gpu);
    tcase_add_test(tc, test_preset_v5p);
    tcase_add_test(tc, test_preset_unknown);
    tcase_add_loop_test(tc, test_presets_in_range, 0, (int)(sizeof PRESETS / sizeof PRESETS[0]));
    tcase_add_test(tc, test_spec_check_bad);
    suite_add_tcase(s, tc);
    tc = tcase_create("table");
    tcase_add_test(tc, test_table);
    tcase_add_loop_test(tc, test_parse, 0, (int)(sizeof PARSE / sizeof PARSE[0]));
    tcase_add_test(tc, test_parse_fields);
    tcase_add_test(tc, test_matmul_precision);
    suite_add_tcase(s, tc);
    tc = tcase_create("write");
    tcase_add_loop_test(tc, test_format_number, 0, (int)(sizeof NUMBERS / sizeof NUMBERS[0]));
    tcase_add_test(tc, test_write_props);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(chip_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
