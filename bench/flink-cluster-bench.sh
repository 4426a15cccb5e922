#!/usr/bin/env bash
# The job on a real Flink cluster against the same job on the local mini cluster, on this machine:
# a standalone session cluster with two task managers (JVMs of their own, 2 slots each), the job jar
# submitted with `flink run` at parallelism 4, then `forecast job` (the mini cluster) at
# parallelism 4 on the same readings. Each run's throughput is the readings divided by the time
# from submission until every forecast is readable (read_committed), job start included. In the
# cluster run one task manager is killed (kill -9) a third of the way through and a new one
# started, as a supervisor would; after recovery every window must have exactly one forecast.
#
#   bench/flink-cluster-bench.sh [SERIES] [DAYS]     (after ./mvnw -B -DskipTests package)
#
# Prints one JSON line; exits non-zero when a forecast is missing or duplicated, or when the kill
# did not happen or the job did not restart. The cluster's time includes the failover: its
# throughput against the mini cluster's is a lower bound.
series=${1:-1000}; days=${2:-200}
slots=2
source "$(dirname "${BASH_SOURCE[0]}")/flink-cluster-lib.sh"
bootstrap=127.0.0.1:$kafka_port
window=7 # the model below reads 7 readings: each series has days - 6 windows
expected=$(( series * (days - window + 1) ))

start_broker
start_jobmanager
start_taskmanager tm-a; tm_a=$tm_pid
start_taskmanager tm-b
wait_for_cluster 4

mapping=(--series-column series --time-column date --features value,aux --domain generated)
"$home/forecast" generate --kind seasonal --series "$series" --days "$days" --output "$work/readings.csv" > /dev/null
"$home/forecast" generate --kind seasonal --series 20 --days 1000 --seed 2 --output "$work/train.csv" > /dev/null
"$home/forecast" replay --csv "$work/readings.csv" "${mapping[@]}" --partitions 4 \
  --bootstrap-servers $bootstrap > /dev/null
"$home/forecast" train --csv "$work/train.csv" "${mapping[@]}" --target value --model-name generated \
  --no-search --window 7 --horizons 1 \
  --members 1 --epochs 5 --force --bootstrap-servers $bootstrap | grep -E "^decision" || true

# count_until FORECASTS_TOPIC EVALUATIONS_TOPIC OUT [on_third]: follows the topics read_committed
# until $expected distinct forecasts were read (or 10 minutes); runs on_third once a third came
count_until() {
  "$home/forecast" tail --from-beginning --bootstrap-servers $bootstrap --forecasts-topic "$1" \
    --evaluations-topic "$2" > "$3" 2> "$3.err" & local tail_pid=$! n=0; pids+=($tail_pid)
  for i in $(seq 1200); do
    n=$( { grep "^forecast " "$3" 2> /dev/null || true; } | awk '{print $2, $3, $6, $NF}' | sort -u | wc -l)
    if [[ $killed == no && -n "${4:-}" && $n -ge $(( expected / 3 )) ]]; then "$4"; fi
    [[ $n -ge $expected ]] && break
    sleep 0.5
  done
  kill $tail_pid 2>/dev/null || true; wait $tail_pid 2>/dev/null || true
}
killed=no
kill_a_task_manager() {
  kill -9 "$tm_a"; killed=yes
  start_taskmanager tm-c
}
seconds_since() { python3 -c "import sys,time; print(round(time.time() - float(sys.argv[1]), 1))" "$1"; }

# the cluster: parallelism 4 over two task managers, one killed mid-stream
start=$(date +%s.%N)
jid=$(submit bootstrap.servers=$bootstrap parallelism=4 topic.partitions=4 group.id=cluster \
  transactional.id.prefix=cluster topic.forecasts=cluster-forecasts topic.evaluations=cluster-evaluations)
count_until cluster-forecasts cluster-evaluations "$work/cluster.out" kill_a_task_manager
cluster_s=$(seconds_since "$start")
# the failures the job recovered from (the kill's, as the job manager recorded them)
restarts=$(curl -fs "127.0.0.1:$rest_port/jobs/$jid/exceptions" \
  | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["exceptionHistory"]["entries"]))')
curl -fs -X PATCH "127.0.0.1:$rest_port/jobs/$jid?mode=cancel" > /dev/null || true

# the mini cluster: the same job and readings in one JVM, parallelism 4
start=$(date +%s.%N)
"$home/forecast" job --fresh --bootstrap-servers $bootstrap --set parallelism=4 --set topic.partitions=4 \
  --set group.id=mini --set transactional.id.prefix=mini --set topic.forecasts=mini-forecasts \
  --set topic.evaluations=mini-evaluations > "$work/mini-job.out" 2>&1 & mini_pid=$!; pids+=($mini_pid)
for i in $(seq 240); do grep -q " running: " "$work/mini-job.out" && break; sleep 0.5; done # topics made
count_until mini-forecasts mini-evaluations "$work/mini.out"
mini_s=$(seconds_since "$start")
kill $mini_pid 2>/dev/null || true

tally() { # OUT: total, distinct (series, base day, horizon, version)
  local total distinct
  total=$(grep -c "^forecast " "$1" || true)
  distinct=$( { grep "^forecast " "$1" || true; } | awk '{print $2, $3, $6, $NF}' | sort -u | wc -l)
  echo "$total $distinct"
}
read -r c_total c_distinct <<< "$(tally "$work/cluster.out")"
read -r m_total m_distinct <<< "$(tally "$work/mini.out")"
readings=$(( series * days ))
python3 - "$series" "$days" "$readings" "$expected" "$cluster_s" "$mini_s" "$c_total" "$c_distinct" \
  "$m_total" "$m_distinct" "$restarts" "$killed" <<'PY'
import json, sys
series, days, readings, expected = map(int, sys.argv[1:5])
cluster_s, mini_s = map(float, sys.argv[5:7])
c_total, c_distinct, m_total, m_distinct = map(int, sys.argv[7:11])
print(json.dumps({
    "series": series, "days": days, "readings": readings, "parallelism": 4,
    "clusterPerSecond": round(readings / cluster_s), "miniClusterPerSecond": round(readings / mini_s),
    "clusterToMini": round(mini_s / cluster_s, 3),
    "taskManagerKilled": sys.argv[12] == "yes", "jobFailuresRecovered": int(sys.argv[11]),
    "expectedForecasts": expected,
    "cluster": {"missing": expected - c_distinct, "duplicated": c_total - c_distinct},
    "miniCluster": {"missing": expected - m_distinct, "duplicated": m_total - m_distinct}}))
ok = c_distinct == expected and c_total == c_distinct and m_distinct == expected
sys.exit(0 if ok and sys.argv[12] == "yes" and int(sys.argv[11]) >= 1 else 1)
PY
