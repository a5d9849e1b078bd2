/* Check suite for fidelity/measured: the measured dataset loader (the committed H200 dataset, and rejections with
 * their exact messages), predictions on the one-GPU platform, and the calibration fit recovering the
 * parameters that generated a synthetic dataset. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fidelity/measured.h"
#include "tests/fixtures.h"
#include "topologies/gpu.h"

#define DATASET "data/h200-switch-steps.csv"
#define GPU1 "topologies/h200-1gpu.xml"
#define MODEL_COLS "name,d_model,d_ff,ffn_act,heads,d_kv,enc_layers,dec_layers,expert_every,experts,vocab,enc_seq," \
                   "dec_seq,tokens_per_batch,capacity_factor,group_size,min_capacity,top_k"
#define HEADER MODEL_COLS ",split,step_ms,step_min_ms,step_max_ms,device"

FIXTURE_TMPDIR_SUITE("check_measured")

START_TEST(test_load_committed)
{
    errbuf err = { "" };
    measured_set *s = measured_load(DATASET, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(s->n, 35);
    int ncal = 0;
    for (int i = 0; i < s->n; i++) {
        ncal += s->calibration[i];
        ck_assert(s->min_s[i] <= s->step_s[i] && s->step_s[i] <= s->max_s[i]);
    }
    ck_assert_int_eq(ncal, 8);
    ck_assert(3 * ncal <= s->n);
    ck_assert_str_eq(s->device, "NVIDIA H200");
    ck_assert_str_eq(s->models->rows[0].name, "gs-dense");
    ck_assert_double_eq_tol(s->step_s[0], 28.8112e-3, 1e-12);
    ck_assert_int_eq(s->calibration[0], 1);
    ck_assert_int_eq(s->models->rows[0].expert_every, 0);
    measured_free(s);
}
END_TEST

/* A tiny row in the dataset's columns; 'tail' is split,step_ms,min,max,device. */
#define ROW(name, tail) name ",64,128,relu,2,32,2,2,1,8,1000,64,16,4096,1.25,256,4,1," tail "\n"

static const struct {
    const char *text, *msg;   /* msg: after "DIR/f.csv" */
} BAD[] = {
    { HEADER "\n" ROW("a", "train,1,1,1,x"), ":2: column 'split' must be 'calibration' or 'holdout', got 'train'" },
    { HEADER "\n" ROW("a", "holdout,fast,1,1,x"), ":2: column 'step_ms' must be a number > 0, got 'fast'" },
    { HEADER "\n" ROW("a", "holdout,3,1,2,x"),
      ":2: column 'step_ms' must lie between step_min_ms and step_max_ms (1..2), got '3'" },
    { HEADER "\n" ROW("a", "calibration,1,1,1,x") ROW("b", "holdout,1,1,1,x"),
      ": 1 of 2 rows are calibration rows; at most a third may be" },
    { MODEL_COLS ",step_ms,step_min_ms,step_max_ms,device\n" "a,64,128,relu,2,32,2,2,1,8,1000,64,16,4096,1.25,256,4,1,1,1,1,x\n",
      ":1: missing column 'split'" },
    { HEADER "\n" "a,64,128,relu,2,32,2,2,1,8,1000,64,16,4096,1.25,256,4,9,holdout,1,1,1,x\n",
      ":2: column 'top_k' must be an integer in [1, 8] (experts per token), got '9'" },
};

START_TEST(test_load_bad)
{
    errbuf err = { "" };
    const char *path = write_tmp("f.csv", BAD[_i].text);
    ck_assert_ptr_null(measured_load(path, &err));
    char want[512];
    snprintf(want, sizeof want, "%s%s", path, BAD[_i].msg);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* Predictions on one H200: positive, deterministic, routing-free for a padded step, and slower when the
 * chip's matmul efficiency is halved. */
START_TEST(test_predict)
{
    errbuf err = { "" };
    measured_set *s = measured_load(DATASET, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    int i = 2;   /* gs-e8: a Switch row */
    double a = 0.0, b = 0.0, u = 0.0, slow = 0.0;
    ck_assert_msg(measured_predict(&a, s, i, GPU1, NULL, 0, &err) == 0, "%s", err.msg);
    ck_assert_msg(measured_predict(&b, s, i, GPU1, NULL, 0, &err) == 0, "%s", err.msg);
    ck_assert_msg(measured_predict(&u, s, i, GPU1, NULL, 1, &err) == 0, "%s", err.msg);
    ck_assert(a > 0.0);
    ck_assert_double_eq(a, b);
    ck_assert_double_eq(a, u);
    cost_chip c;
    cost_chip_h200(&c);
    c.mm_efficiency /= 2.0;
    ck_assert_msg(measured_predict(&slow, s, i, GPU1, &c, 1, &err) == 0, "%s", err.msg);
    ck_assert(slow > 1.2 * a);
    /* a TPU chip's numbers on a GPU platform are refused */
    cost_chip_tpuv3(&c);
    ck_assert_int_eq(measured_predict(&slow, s, i, GPU1, &c, 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "not of the platform's chip family"));
    measured_free(s);
}
END_TEST

/* Synthetic data: step times predicted with known parameters become the 'measured' column; the fit on the
 * calibration rows must find parameters that predict every row (held-out ones too) to within 1%. */
static const char *const SYN[] = {
    /* name d_model d_ff act heads d_kv enc dec every E vocab enc_seq dec_seq tokens cf group min_cap k */
    "s-dense,256,1024,relu,4,64,2,2,0,1,8000,128,32,16384,1.25,1024,4,1",
    "s-e8,256,1024,relu,4,64,2,2,2,8,8000,128,32,16384,1.25,1024,4,1",
    "s-e32-cf2,256,1024,relu,4,64,2,2,2,32,8000,128,32,16384,2.0,1024,4,1",
    "m-dense,512,2048,relu,8,64,2,2,0,1,8000,128,32,32768,1.25,1024,4,1",
    "m-e16,512,2048,relu,8,64,2,2,2,16,8000,128,32,32768,1.25,1024,4,1",
    "m-e64-top2,512,2048,relu,8,64,2,2,2,64,8000,128,32,32768,1.25,2048,4,2",
    "w-dense,1024,4096,relu,16,64,2,2,0,1,8000,128,32,65536,1.25,1024,4,1",
    "w-e32,1024,4096,relu,16,64,2,2,2,32,8000,128,32,65536,1.0,2048,4,1",
    "t-e8,128,512,relu,2,64,2,2,2,8,8000,128,32,4096,1.25,512,4,1",
    "t-dense,128,512,relu,2,64,2,2,0,1,8000,128,32,4096,1.25,512,4,1",
    "w-e64-cf4,1024,4096,relu,16,64,2,2,2,64,8000,128,32,65536,4.0,2048,4,1",
    "m-e128,512,2048,relu,8,64,2,2,2,128,8000,128,32,32768,1.25,1024,4,1",
};
#define NSYN (int)(sizeof SYN / sizeof SYN[0])
static const int SYN_CAL[NSYN] = { 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0 };

static void write_syn(const char *name, const double *ms)
{
    char text[8192] = HEADER "\n";
    for (int i = 0; i < NSYN; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s,%s,%.9g,%.9g,%.9g,test\n", SYN[i], SYN_CAL[i] ? "calibration" : "holdout",
                 ms[i], ms[i], ms[i]);
        strncat(text, line, sizeof text - strlen(text) - 1);
    }
    write_tmp(name, text);
}

START_TEST(test_calibrate_recovers)
{
    errbuf err = { "" };
    double ones[NSYN];
    for (int i = 0; i < NSYN; i++)
        ones[i] = 1.0;
    write_syn("syn.csv", ones);
    char path[128];
    snprintf(path, sizeof path, "%s/syn.csv", tmpdir);
    measured_set *s = measured_load(path, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    cost_chip truth;
    cost_chip_h200(&truth);
    truth.mm_efficiency = 0.55;
    truth.hbm_efficiency = 0.45;
    truth.op_overhead_s = 7e-6;
    truth.opt_bytes_per_param = 32.0;
    double ms[NSYN];
    for (int i = 0; i < NSYN; i++) {
        double t = 0.0;
        ck_assert_msg(measured_predict(&t, s, i, GPU1, &truth, 1, &err) == 0, "%s", err.msg);
        ms[i] = t * 1e3;
    }
    measured_free(s);
    write_syn("syn.csv", ms);
    s = measured_load(path, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    measured_fit fit;
    ck_assert_msg(measured_calibrate(&fit, s, GPU1, 0, &err) == 0, "%s", err.msg);
    ck_assert(fit.rms_log_err < 0.01);
    cost_chip c;
    cost_chip_h200(&c);
    c.mm_efficiency = fit.mm_efficiency;
    c.hbm_efficiency = fit.hbm_efficiency;
    c.op_overhead_s = fit.op_overhead_s;
    c.opt_bytes_per_param = fit.opt_bytes_per_param;
    for (int i = 0; i < NSYN; i++) {
        double t = 0.0;
        ck_assert_msg(measured_predict(&t, s, i, GPU1, &c, 1, &err) == 0, "%s", err.msg);
        ck_assert_msg(fabs(t / s->step_s[i] - 1.0) < 0.01, "row %s: fitted %g s, truth %g s", SYN[i], t,
                      s->step_s[i]);
    }
    /* the dominant parameter is found; the others within what the rows can tell apart */
    ck_assert_double_eq_tol(fit.mm_efficiency, 0.55, 0.03);
    measured_free(s);
}
END_TEST

START_TEST(test_calibrate_needs_rows)
{
    errbuf err = { "" };
    const char *path = write_tmp("few.csv", HEADER "\n" ROW("a", "calibration,1,1,1,x") ROW("b", "holdout,1,1,1,x")
                                                ROW("c", "holdout,1,1,1,x"));
    measured_set *s = measured_load(path, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    measured_fit fit;
    ck_assert_int_eq(measured_calibrate(&fit, s, GPU1, 0, &err), -1);
    ck_assert_str_eq(err.msg, "calibration needs at least 4 calibration rows (4 parameters), the dataset has 1");
    ck_assert_int_eq(measured_calibrate(&fit, s, "topologies/tpuv3-2x2.xml", 0, &err), -1);
    ck_assert_str_eq(err.msg, "topologies/tpuv3-2x2.xml: calibration fits the GPU cost model's parameters; this is "
                              "a tpuv3 platform");
    measured_free(s);
}
END_TEST

/* A calibration row that cannot run (it does not fit in HBM) ends the fit with the engine's reason. */
START_TEST(test_calibrate_bad_row)
{
    errbuf err = { "" };
    char text[4096] = HEADER "\n"
        "huge,4096,16384,relu,64,64,24,24,1,2048,32128,64,16,4096,1.25,256,4,1,calibration,1,1,1,x\n";
    const char *names[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k" };
    for (int i = 0; i < 11; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s,64,128,relu,2,32,2,2,1,8,1000,64,16,4096,1.25,256,4,1,%s,1,1,1,x\n",
                 names[i], i < 3 ? "calibration" : "holdout");
        strncat(text, line, sizeof text - strlen(text) - 1);
    }
    measured_set *s = measured_load(write_tmp("huge.csv", text), &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    measured_fit fit;
    ck_assert_int_eq(measured_calibrate(&fit, s, GPU1, 0, &err), -1);
    ck_assert_msg(strncmp(err.msg, "row 'huge': plan ", 17) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "GiB"));
    measured_free(s);
}
END_TEST

/* The platform of a row on n GPUs: the 1-GPU platform's "1gpu" becomes "<n>gpu", in the same folder. */
START_TEST(test_platform_name)
{
    errbuf err = { "" };
    char buf[64];
    ck_assert_int_eq(measured_platform(buf, sizeof buf, GPU1, 8, &err), 0);
    ck_assert_str_eq(buf, "topologies/h200-8gpu.xml");
    ck_assert_int_eq(measured_platform(buf, sizeof buf, "a/1gpu.d/h200-1gpu.xml", 16, &err), 0);
    ck_assert_str_eq(buf, "a/1gpu.d/h200-16gpu.xml");   /* the file name's "1gpu", not a folder's */
    ck_assert_int_eq(measured_platform(buf, sizeof buf, "x/tpuv3-2x2.xml", 1, &err), 0);
    ck_assert_str_eq(buf, "x/tpuv3-2x2.xml");
    ck_assert_int_eq(measured_platform(buf, sizeof buf, "x/tpuv3-2x2.xml", 2, &err), -1);
    ck_assert_str_eq(err.msg, "rows on 2 GPUs need a platform named like '*-1gpu.xml' to find '*-2gpu.xml' beside "
                     "it, got 'x/tpuv3-2x2.xml'");
    ck_assert_int_eq(measured_platform(buf, sizeof buf, "h200-11gpu.xml", 2, &err), -1);
    ck_assert_int_eq(measured_platform(buf, 12, GPU1, 8, &err), -1);
    ck_assert_str_eq(err.msg, "platform path too long: 'topologies/h200-1gpu.xml'");
}
END_TEST

/* A 'gpus' column and planned rows (empty step columns): loaded, predicted on the n-GPU twin. */
START_TEST(test_gpus_and_planned)
{
    errbuf err = { "" };
    const char *text = MODEL_COLS ",gpus,split,step_ms,step_min_ms,step_max_ms,device\n"
        "d1,64,128,relu,2,32,2,2,0,1,1000,64,16,4096,1.25,256,4,1,1,holdout,2.5,2.4,2.6,H200\n"
        "d2,64,128,relu,2,32,2,2,0,1,1000,64,16,8192,1.25,256,4,1,2,holdout,,,,H200\n"
        "e2,64,128,relu,2,32,2,2,1,8,1000,64,16,8192,1.25,256,4,1,2,holdout,,,,H200\n";
    measured_set *s = measured_load(write_tmp("gpus.csv", text), &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(s->n, 3);
    ck_assert_int_eq(s->gpus[0], 1);
    ck_assert_int_eq(s->gpus[2], 2);
    ck_assert_int_eq(s->measured[0], 1);
    ck_assert_int_eq(s->measured[1], 0);
    ck_assert(isnan(s->step_s[1]));
    double one, two, sw;
    ck_assert_msg(measured_predict_row(&one, s, 0, GPU1, NULL, 1, &err) == 0, "%s", err.msg);
    ck_assert_msg(measured_predict_row(&two, s, 1, GPU1, NULL, 1, &err) == 0, "%s", err.msg);
    ck_assert_msg(measured_predict_row(&sw, s, 2, GPU1, NULL, 1, &err) == 0, "%s", err.msg);
    /* the same tokens per GPU: 2 GPUs compute as much as 1 and add the gradient all-reduce over NVLink */
    ck_assert_msg(two > one, "2 GPUs %g s, 1 GPU %g s", two, one);
    ck_assert(sw > 0.0);
    ck_assert_int_eq(measured_predict_row(&two, s, 1, "x/tpuv3-2x2.xml", NULL, 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "need a platform named like '*-1gpu.xml'"));
    measured_free(s);
    /* bad GPU counts, and a calibration row must be measured */
    const char *bad = MODEL_COLS ",gpus,split,step_ms,step_min_ms,step_max_ms,device\n"
        "d1,64,128,relu,2,32,2,2,0,1,1000,64,16,4096,1.25,256,4,1,1,holdout,2.5,2.4,2.6,H200\n"
        "d2,64,128,relu,2,32,2,2,0,1,1000,64,16,8192,1.25,256,4,1,0,holdout,2.5,2.4,2.6,H200\n";
    ck_assert_ptr_null(measured_load(write_tmp("g0.csv", bad), &err));
    ck_assert_msg(strstr(err.msg, "g0.csv:3: column 'gpus' must be an integer in [1,4096], got '0'") != NULL, "%s",
                  err.msg);
    const char *cal = MODEL_COLS ",split,step_ms,step_min_ms,step_max_ms,device\n"
        "d1,64,128,relu,2,32,2,2,0,1,1000,64,16,4096,1.25,256,4,1,calibration,,,,H200\n"
        "d2,64,128,relu,2,32,2,2,0,1,1000,64,16,8192,1.25,256,4,1,holdout,2.5,2.4,2.6,H200\n"
        "d3,64,128,relu,2,32,2,2,0,1,1000,64,16,8192,1.25,256,4,1,holdout,2.5,2.4,2.6,H200\n";
    ck_assert_ptr_null(measured_load(write_tmp("cal.csv", cal), &err));
    ck_assert_msg(strstr(err.msg, "cal.csv:2: column 'step_ms' must be a number > 0, got ''") != NULL, "%s",
                  err.msg);
}
END_TEST

static Suite *measured_suite(void)
{
    Suite *s = suite_create("measured");
    TCase *tc = tcase_create("measured");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_load_committed);
    tcase_add_loop_test(tc, test_load_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_predict);
    tcase_add_test(tc, test_calibrate_recovers);
    tcase_add_test(tc, test_calibrate_needs_rows);
    tcase_add_test(tc, test_calibrate_bad_row);
    tcase_add_test(tc, test_platform_name);
    tcase_add_test(tc, test_gpus_and_planned);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(measured_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
