#!/usr/bin/env bash
# Runs the job jar the way a Flink cluster does, on this machine, every port on 127.0.0.1:
# a standalone session cluster (job manager and task manager, each a JVM of its own) whose lib/
# holds Flink 2.2.1's jars from Maven Central (flink-dist itself is not published there) plus
# flink-job/target/flink-lib (DJL and PyTorch), then `flink run -d flink-job/target/forecaster-job.jar`
# against a Kafka broker with the Seattle weather and a published model. Passes when forecasts
# made by that job reach the forecasts topic and the job has no exception; stops everything.
#
#   bench/flink-cluster-check.sh            (after ./mvnw -B -DskipTests package)
slots=2
source "$(dirname "${BASH_SOURCE[0]}")/flink-cluster-lib.sh"

start_broker
start_jobmanager
start_taskmanager taskmanager
wait_for_cluster 2
echo "cluster:  job manager on 127.0.0.1:$rest_port, one task manager with 2 slots; lib/ has $(ls "$work/lib" | wc -l) jars"

"$home/forecast" replay --preset weather --bootstrap-servers 127.0.0.1:$kafka_port
"$home/forecast" train --preset weather --from-kafka --epochs 10 --members 1 --force \
  --bootstrap-servers 127.0.0.1:$kafka_port | grep -E "^decision"

flink org.apache.flink.client.cli.CliFrontend cli run -d "$jar" bootstrap.servers=127.0.0.1:$kafka_port parallelism=2 \
  | grep -i "submitted"
"$home/forecast" tail --from-beginning --bootstrap-servers 127.0.0.1:$kafka_port --max 20 > "$work/tail.out" &
tail_pid=$!
for i in $(seq 90); do kill -0 $tail_pid 2>/dev/null || break; sleep 2; done
kill $tail_pid 2>/dev/null || true
forecasts=$(grep -c "^forecast " "$work/tail.out" || true)
jobs=$(curl -fs "127.0.0.1:$rest_port/jobs/overview")
jid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["jobs"][0]["jid"])' "$jobs")
state=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["jobs"][0]["state"])' "$jobs")
exceptions=$(curl -fs "127.0.0.1:$rest_port/jobs/$jid/exceptions" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["exceptionHistory"]["entries"]))')
head -4 "$work/tail.out"
grep -h "SharedModels" "$work/taskmanager.log" | head -2 || true
echo "job $jid: $state, $forecasts of the first 20 records read are forecasts, $exceptions exceptions"
curl -fs -X PATCH "127.0.0.1:$rest_port/jobs/$jid?mode=cancel" > /dev/null
[[ "$state" == RUNNING && "$forecasts" -gt 0 && "$exceptions" == 0 ]]
