#!/usr/bin/env bash
# Times whole certgen processes against the openssl recipe, side by side in
# one hyperfine run, then batches of 10, 100 and 1,000 ECDSA leaves, then the
# peak memory of each, and prints a table and the ratios the README quotes.
#
#     scripts/bench.sh [RECIPE]
#
# RECIPE is a gen.sh-style script (default ../shared/reference/gen.sh from
# the repository root); it is copied with the openssl.cnf beside it into a
# temporary folder and run there, as its users run it. Every run, of either
# tool, starts from an empty folder. RUNS (default 20) and BATCH_RUNS
# (default 5) set the number of timed runs; BENCH_DIR sets where the
# temporary folders go (default: $TMPDIR or /tmp). The folder's file system
# matters: certgen flushes every file to disk, which costs little on tmpfs
# and a lot on a slow disk.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
recipe=${1:-$repo/../shared/reference/gen.sh}
runs=${RUNS:-20}
batch_runs=${BATCH_RUNS:-5}

if [ ! -f "$recipe" ]; then
    echo "error: no recipe at $recipe; pass the path of a gen.sh-style script" >&2
    exit 2
fi
recipe=$(cd "$(dirname "$recipe")" && pwd)/$(basename "$recipe")
recipe_cnf=$(dirname "$recipe")/openssl.cnf

# hyperfine does the timing, GNU time reads the peak memory, and openssl is
# what the recipe runs.
missing=""
command -v hyperfine >/dev/null 2>&1 || missing="$missing hyperfine"
[ -x /usr/bin/time ] || missing="$missing time"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    apt-get install -y -qq $missing >/dev/null
fi

echo "building certgen (release)..." >&2
(cd "$repo" && cargo build --release --quiet)
certgen=${CARGO_TARGET_DIR:-$repo/target}/release/certgen

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/certgen-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/recipe-src"
cp "$recipe" "$work/recipe-src/gen.sh"
if [ -f "$recipe_cnf" ]; then
    cp "$recipe_cnf" "$work/recipe-src/openssl.cnf"
fi
out="$work/out"

# A profile with n [[leaf]] tables. The shared key_type makes the CA, server
# and client ECDSA too, so that the batch times the leaves rather than RSA.
write_profile() {
    local n=$1 file=$2 i
    {
        echo 'key_type = "ecdsa-p256"'
        for i in $(seq 1 "$n"); do
            printf '\n[[leaf]]\nname = "leaf%d"\nusage = "server"\nkey_type = "ecdsa-p256"\n' "$i"
        done
    } >"$file"
}
for n in 10 100 1000; do
    write_profile "$n" "$work/leaves-$n.toml"
done

# Before each run the last run's folder is moved aside, not deleted, and the
# moved folders are deleted at the end. On ext4 without a journal (as here)
# the allocator skips inodes freed in the last minute, so creating files just
# after deleting thousands of others gets slower with each one deleted:
# deleting between runs would time the file system's allocator, not certgen.
trash="$work/trash"
mkdir "$trash"
move_aside() { echo "if [ -e '$1' ]; then mv '$1' \"\$(mktemp -d '$trash/XXXXXX')\"; fi"; }
fresh_recipe="$(move_aside "$work/recipe") && cp -r '$work/recipe-src' '$work/recipe'"
run_recipe="cd '$work/recipe' && sh gen.sh"
fresh_out=$(move_aside "$out")
all_rsa="'$certgen' all --cn localhost --out '$out' --quiet"
all_ecdsa="'$certgen' all --cn localhost --key-type ecdsa-p256 --out '$out' --quiet"
batch() { echo "'$certgen' all --profile '$work/leaves-$1.toml' --out '$out' --quiet"; }

echo "timing gen.sh and certgen all, $runs runs each..." >&2
hyperfine --style none --warmup 1 --runs "$runs" --export-csv "$work/all.csv" \
    --command-name gen.sh --prepare "$fresh_recipe" "$run_recipe" \
    --command-name all-rsa2048 --prepare "$fresh_out" "$all_rsa" \
    --command-name all-ecdsa-p256 --prepare "$fresh_out" "$all_ecdsa"

echo "timing batches of 10, 100 and 1000 leaves, $batch_runs runs each..." >&2
hyperfine --style none --warmup 1 --runs "$batch_runs" --export-csv "$work/batch.csv" \
    --prepare "$fresh_out" \
    --command-name leaves-10 "$(batch 10)" \
    --command-name leaves-100 "$(batch 100)" \
    --command-name leaves-1000 "$(batch 1000)"

# Peak resident memory in KiB, the largest of three runs. For gen.sh it is
# that of its largest process (an openssl), which is what the recipe needs.
peak_kib() {
    local prepare=$1 command=$2 best=0 kib _
    for _ in 1 2 3; do
        sh -c "$prepare"
        kib=$(/usr/bin/time -v sh -c "$command" 2>&1 >/dev/null |
            awk -F': ' '/Maximum resident set size/ { print $2 }')
        [ "$kib" -gt "$best" ] && best=$kib
    done
    echo "$best"
}

echo "measuring peak memory..." >&2
declare -A peak
peak[gen.sh]=$(peak_kib "$fresh_recipe" "$run_recipe 2>/dev/null")
peak[all-rsa2048]=$(peak_kib "$fresh_out" "$all_rsa")
peak[all-ecdsa-p256]=$(peak_kib "$fresh_out" "$all_ecdsa")
for n in 10 100 1000; do
    peak[leaves-$n]=$(peak_kib "$fresh_out" "$(batch "$n")")
done

# Medians in seconds, by command name, from hyperfine's CSV (command, mean,
# stddev, median, user, system, min, max).
declare -A median low high
while IFS=, read -r name _ _ med _ _ min max; do
    median[$name]=$med
    low[$name]=$min
    high[$name]=$max
done < <(tail -q -n +2 "$work/all.csv" "$work/batch.csv")

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
fs=$(findmnt -n -o FSTYPE -T "$work" 2>/dev/null || stat -f -c %T "$work")
echo "folder:  $work (on $fs)"
echo "tools:   $(hyperfine --version), $(openssl version | cut -d' ' -f1-2), $("$certgen" --version)"
echo
# "per added leaf": a batch's median less that of `all` with ECDSA (the same
# CA, server and client without the [[leaf]] tables), over the leaves added.
echo "| command | median | min | max | per added leaf | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|"
for name in gen.sh all-rsa2048 all-ecdsa-p256 leaves-10 leaves-100 leaves-1000; do
    case $name in
        leaves-*)
            per_leaf=$(calc "%.2f ms" \
                "(${median[$name]} - ${median[all-ecdsa-p256]}) * 1000 / ${name#leaves-}")
            ;;
        *) per_leaf="" ;;
    esac
    printf '| %s | %s | %s | %s | %s | %s |\n' "$name" \
        "$(calc "%.1f ms" "${median[$name]} * 1000")" \
        "$(calc "%.1f ms" "${low[$name]} * 1000")" \
        "$(calc "%.1f ms" "${high[$name]} * 1000")" \
        "$per_leaf" \
        "$(calc "%.1f MiB" "${peak[$name]} / 1024")"
done

# Each target: the measured value, the limit, and whether it is met.
verdict() { awk "BEGIN { exit !($1) }" && echo "met" || echo "MISSED"; }
gen=${median[gen.sh]}
rsa=${median[all-rsa2048]}
ecdsa=${median[all-ecdsa-p256]}
t10=${median[leaves-10]}
t100=${median[leaves-100]}
t1000=${median[leaves-1000]}
slope_low=$(calc "%.6f" "($t100 - $t10) / 90")
slope_high=$(calc "%.6f" "($t1000 - $t100) / 900")
max_all_kib=$(( peak[all-rsa2048] > peak[all-ecdsa-p256] ? peak[all-rsa2048] : peak[all-ecdsa-p256] ))

echo
echo "ratios of medians, this run:"
printf '  all rsa2048 / gen.sh     = 1/%s (target: 1/4 or less)    %s\n' \
    "$(calc "%.1f" "$gen / $rsa")" "$(verdict "$rsa * 4 <= $gen")"
printf '  all ecdsa-p256 / gen.sh  = 1/%s (target: 1/60 or less)   %s\n' \
    "$(calc "%.1f" "$gen / $ecdsa")" "$(verdict "$ecdsa * 60 <= $gen")"
printf '  1000 leaves              = %s (target: under 1 s)      %s\n' \
    "$(calc "%.3f s" "$t1000")" "$(verdict "$t1000 < 1")"
# Linear cost means the cost of one more leaf does not grow with the batch.
# It may fall: the fixed costs of the key and staging threads spread over
# more leaves. The shape is printed beside the verdict either way.
shape=$(awk "BEGIN { r = $slope_high / $slope_low;
    if (r > 1.5) print \"grows\"; else if (r < 1 / 1.5) print \"falls\"; else print \"flat\" }")
printf '  cost of one more leaf    = %s from 10 to 100, %s from 100 to 1000: %s (target: no growth past 1.5x)  %s\n' \
    "$(calc "%.2f ms" "$slope_low * 1000")" "$(calc "%.2f ms" "$slope_high * 1000")" \
    "$shape" "$(verdict "$slope_high <= 1.5 * $slope_low")"
printf '  peak RSS of all          = %s (target: under 10 MiB)   %s\n' \
    "$(calc "%.1f MiB" "$max_all_kib / 1024")" "$(verdict "$max_all_kib < 10240")"
echo
echo "reproduce: scripts/bench.sh $*"
