/* fixtures: presets built in code for the Check suites, so a test does not depend on models/models.csv. */
#ifndef SWITCHSIM_TEST_FIXTURES_H
#define SWITCHSIM_TEST_FIXTURES_H

#include <string.h>

#include "models/model.h"

/* switch-base as in models/models.csv: REFERENCE 1.2 switch_base.gin (ReLU 3072, 128 experts every other
 * layer, group 8192, min capacity 4), 512/114 tokens, 2^20 tokens per batch. */
static inline model_cfg fixture_switch_base(void)
{
    model_cfg m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "switch-base");
    m.d_model = 768;
    m.d_ff = 3072;
    m.act = MODEL_ACT_RELU;
    m.heads = 12;
    m.d_kv = 64;
    m.enc_layers = 12;
    m.dec_layers = 12;
    m.expert_every = 2;
    m.experts = 128;
    m.vocab = 32128;
    m.enc_seq = 512;
    m.dec_seq = 114;
    m.tokens_per_batch = 1048576;
    m.capacity_factor = 1.25;
    m.group_size = 8192;
    m.min_capacity = 4;
    m.top_k = 1;
    return m;
}

#endif
