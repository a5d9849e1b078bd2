#!/bin/sh
# A stand-in for 'switchsim run' in the sweep tests (SWITCHSIM_RUN_BIN): writes run's CSV header and
# one step row whose config columns echo its options and whose results are made up from them.
# FAKE_RUN_FAIL_CF=X makes the run with capacity factor X fail (exit 1), saying so on stderr unless FAKE_RUN_QUIET
# is set (a test expecting the failure keeps its output quiet); FAKE_RUN_SLEEP=S sleeps first.
[ "$1" = run ] || { echo "fake run: expected 'run', got '$1'" >&2; exit 2; }
shift
platform=; model=; data=32; model_par=1; routing=router; dispatch=padded; a2a=phased; k=1; cf=1.25; seed=1; csv=
while [ $# -gt 0 ]; do
    case $1 in
    --platform) platform=$2 ;;
    --model) model=$2 ;;
    --plan) data=$(echo "$2" | sed -n 's/.*data=\([0-9]*\).*/\1/p'); model_par=$(echo "$2" | sed -n 's/.*model=\([0-9]*\).*/\1/p')
            [ -n "$data" ] || data=32; [ -n "$model_par" ] || model_par=1 ;;
    --routing) routing=$2 ;;
    --dispatch) dispatch=$2 ;;
    --a2a) a2a=$2 ;;
    --top-k) k=$2 ;;
    --capacity-factor) cf=$2 ;;
    --seed) seed=$2 ;;
    --csv) csv=$2 ;;
    *) echo "fake run: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift 2
done
[ -n "$FAKE_RUN_SLEEP" ] && sleep "$FAKE_RUN_SLEEP"
if [ -n "$FAKE_RUN_FAIL_CF" ] && [ "$cf" = "$FAKE_RUN_FAIL_CF" ]; then
    [ -n "$FAKE_RUN_QUIET" ] || echo "fake run: error: capacity factor $cf refused" >&2
    exit 1
fi
echo "step 1 s (fake)"
tmp="$csv.tmp$$"
{
echo "model,platform,cores,data,model_par,experts_per_core,top_k,capacity_factor,expert_capacity,routing,dispatch,a2a,seed,tokens_per_batch,scope,layer,phase,dropped_frac,lb_loss,a2a_bytes_per_core,step_time_s,compute_s,router_s,dispatch_combine_s,a2a_s,allreduce_s,idle_s,examples_per_s,tflops_per_chip,mfu,hfu,precision,impl,sim_wall_s"
awk -v m="$model" -v p="$platform" -v d="$data" -v mp="$model_par" -v k="$k" -v cf="$cf" -v r="$routing" \
    -v di="$dispatch" -v a="$a2a" -v s="$seed" 'BEGIN {
    t = 0.5 + 0.1 * cf + 0.01 * k + 0.001 * s
    drop = 0.2 / (cf * (3 - k))
    printf "%s,%s,32,%d,%d,4,%d,%.9g,%d,%s,%s,%s,%d,1048576,step,-1,all,%.9g,0.01,%.9g,%.9g,%.9g,0.01,0.02,%.9g,0.05,0.01,%.9g,40,0.3,0.4,selective,flaxformer,0.5\n",
        m, p, d, mp, k, cf, int(cf * 256), r, di, a, s, drop, 1e8 * cf, t, t * 0.6, t * 0.15, 1024 / t
}'
} > "$tmp" && mv "$tmp" "$csv"
