#!/usr/bin/env bash
# Runs the job jar the way a Flink cluster does, on this machine, every port on 127.0.0.1:
# a standalone session cluster (job manager and task manager, each a JVM of its own) whose lib/
# holds Flink 2.2.1's jars from Maven Central (flink-dist itself is not published there) plus
# flink-job/target/flink-lib (DJL and PyTorch), then `flink run -d flink-job/target/forecaster-job.jar`
# against a Kafka broker with the Seattle weather and a published model. Passes when forecasts
# made by that job reach the forecasts topic and the job has no exception; stops everything.
#
#   bench/flink-cluster-check.sh            (after ./mvnw -B -DskipTests package)
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/flink-cluster-check.XXXXXX)"
kafka_port=19192; rest_port=18181
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ $rc == 0 ]]; then rm -rf "$work"; else echo "failed: logs in $work" >&2; fi
}
trap cleanup EXIT

jar="$home/flink-job/target/forecaster-job.jar"
[[ -f "$jar" && -d "$home/flink-job/target/flink-lib" && -d "$home/forecast-cli/target/lib" ]] || {
  echo "build first: ./mvnw -B -DskipTests package" >&2; exit 2; }

# lib/: Flink and what it needs; not the project, the Kafka connector, kafka-clients or Avro (the
# job jar brings those), not DJL from the CLI's folder (flink-lib has it)
mkdir -p "$work/lib" "$work/conf"
for j in "$home"/forecast-cli/target/lib/*.jar; do
  case "$(basename "$j")" in
    schemas-*|forecast-model-*|model-trainer-*|flink-job-*|kafka-local-*|kafka_*|kafka-*|avro-*|flink-avro-*|\
    flink-connector-kafka-*|api-0.35*|pytorch-*|gson-*|jna-*|picocli-*|jfreechart-*|progressbar-*|cron-utils-*|\
    prometheus-*|jline-*|snakeyaml-2*|scala-logging*|zookeeper*|metrics-core*|jopt*|argparse4j*|caffeine*) ;;
    *) cp "$j" "$work/lib/" ;;
  esac
done
cp "$home"/flink-job/target/flink-lib/*.jar "$work/lib/"

djl_opts="-Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 -Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.forecaster.avro"
cat > "$work/conf/config.yaml" <<YAML
jobmanager: {rpc: {address: 127.0.0.1, port: 16223}, bind-host: 127.0.0.1, memory: {process: {size: 1024m}}}
taskmanager: {bind-host: 127.0.0.1, host: 127.0.0.1, numberOfTaskSlots: 2, memory: {process: {size: 2048m}, task: {off-heap: {size: 256m}}}}
rest: {address: 127.0.0.1, bind-address: 127.0.0.1, port: $rest_port}
blob: {server: {port: 16224}}
classloader: {parent-first-patterns: {additional: ai.djl.}}
YAML
printf 'rootLogger.level = INFO\nrootLogger.appenderRef.file.ref = F\nappender.f.name = F\nappender.f.type = File\nappender.f.fileName = ${sys:log.file}\nappender.f.layout.type = PatternLayout\nappender.f.layout.pattern = %%d{HH:mm:ss} %%-5level %%c{1} - %%msg%%n\n' > "$work/conf/log4j.properties"
# what Flink's own scripts pass to every JVM on Java 17
jdk_opts="--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"
flink() { # main class, log name, extra args...
  local main=$1 log=$2; shift 2
  exec java $jdk_opts -cp "$work/lib/*" -Dlog.file="$work/$log.log" -Dlog4j.configurationFile="$work/conf/log4j.properties" "$main" "$@"
}
export OPT_OUT_TRACKING=true DJL_CACHE_DIR="${DJL_CACHE_DIR:-$home/.djl-cache}" FLINK_CONF_DIR="$work/conf"

"$home/forecast" broker --port $kafka_port > "$work/broker.out" 2>&1 & pids+=($!)
flink org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint jobmanager --configDir "$work/conf" > "$work/jm.out" 2>&1 & pids+=($!)
# the task manager's memory flags, computed as Flink's scripts do
params=$(flink org.apache.flink.runtime.util.bash.BashJavaUtils utils GET_TM_RESOURCE_PARAMS --configDir "$work/conf" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p')
tm_jvm=$(sed -n 1p <<< "$params"); tm_dynamic=$(sed -n 2p <<< "$params")
java $jdk_opts $tm_jvm $djl_opts -cp "$work/lib/*" -Dlog.file="$work/taskmanager.log" \
  -Dlog4j.configurationFile="$work/conf/log4j.properties" org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
  --configDir "$work/conf" $tm_dynamic > "$work/tm.out" 2>&1 & pids+=($!)

for i in $(seq 60); do grep -q "Kafka broker on" "$work/broker.out" 2>/dev/null && \
  curl -fs "127.0.0.1:$rest_port/taskmanagers" | grep -q '"slotsNumber":2' && break; sleep 2; done
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
