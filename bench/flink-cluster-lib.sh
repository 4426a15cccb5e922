#!/usr/bin/env bash
# Shared by bench/flink-cluster-check.sh and bench/flink-cluster-bench.sh (sourced, not run): a
# standalone Flink 2.2.1 session cluster on this machine, every port on 127.0.0.1, each process a
# JVM of its own. lib/ holds Flink's jars from Maven Central (flink-dist itself is not published
# there) plus flink-job/target/flink-lib (DJL and PyTorch); the job jar is submitted with
# `flink run`. Set `slots` (per task manager) before sourcing.
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/flink-cluster.XXXXXX)"
kafka_port=${kafka_port:-19192}; rest_port=${rest_port:-18181}
slots=${slots:-2}
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
taskmanager: {bind-host: 127.0.0.1, host: 127.0.0.1, numberOfTaskSlots: $slots, memory: {process: {size: 2048m}, task: {off-heap: {size: 256m}}}}
rest: {address: 127.0.0.1, bind-address: 127.0.0.1, port: $rest_port}
blob: {server: {port: 16224}}
classloader: {parent-first-patterns: {additional: ai.djl.}}
YAML
printf 'rootLogger.level = INFO\nrootLogger.appenderRef.file.ref = F\nappender.f.name = F\nappender.f.type = File\nappender.f.fileName = ${sys:log.file}\nappender.f.layout.type = PatternLayout\nappender.f.layout.pattern = %%d{HH:mm:ss} %%-5level %%c{1} - %%msg%%n\n' > "$work/conf/log4j.properties"
# what Flink's own scripts pass to every JVM on Java 17
jdk_opts="--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"
# always in a subshell (`&`, `$(...)` or a pipe): it execs the JVM, so that a pid is the JVM's
flink() { # main class, log name, extra args...
  local main=$1 log=$2; shift 2
  exec java $jdk_opts -cp "$work/lib/*" -Dlog.file="$work/$log.log" -Dlog4j.configurationFile="$work/conf/log4j.properties" "$main" "$@"
}
export OPT_OUT_TRACKING=true DJL_CACHE_DIR="${DJL_CACHE_DIR:-$home/.djl-cache}" FLINK_CONF_DIR="$work/conf"
export ONEDNN_MAX_CPU_ISA="${ONEDNN_MAX_CPU_ISA:-AVX2}" # PyTorch's LSTM on AMD Zen 5 (LstmKernelCheck)
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-67108864}" # tensors on glibc's heap (./forecast)
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-268435456}"

start_broker() {
  "$home/forecast" broker --port $kafka_port > "$work/broker.out" 2>&1 & pids+=($!)
}
start_jobmanager() {
  flink org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint jobmanager --configDir "$work/conf" > "$work/jm.out" 2>&1 & pids+=($!)
}
# start_taskmanager NAME: a task manager JVM with the memory flags Flink's scripts compute; its pid
# in tm_pid
start_taskmanager() {
  local params tm_jvm tm_dynamic
  params=$(flink org.apache.flink.runtime.util.bash.BashJavaUtils utils GET_TM_RESOURCE_PARAMS --configDir "$work/conf" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p')
  tm_jvm=$(sed -n 1p <<< "$params"); tm_dynamic=$(sed -n 2p <<< "$params")
  java $jdk_opts $tm_jvm $djl_opts -cp "$work/lib/*" -Dlog.file="$work/$1.log" \
    -Dlog4j.configurationFile="$work/conf/log4j.properties" org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
    --configDir "$work/conf" $tm_dynamic > "$work/$1.out" 2>&1 & tm_pid=$!; pids+=($tm_pid)
}
# wait_for_cluster SLOTS: until the broker is up and the cluster offers SLOTS slots in all
wait_for_cluster() {
  for i in $(seq 90); do grep -q "Kafka broker on" "$work/broker.out" 2>/dev/null && \
    [[ "$(curl -fs "127.0.0.1:$rest_port/overview" | python3 -c 'import json,sys; print(json.load(sys.stdin)["slots-total"])' 2>/dev/null)" == "$1" ]] && return 0; sleep 2; done
  echo "the cluster did not come up with $1 slots" >&2; return 1
}
# submit KEY=VALUE...: the job jar, detached; prints the job id
submit() {
  flink org.apache.flink.client.cli.CliFrontend cli run -d "$jar" "$@" | sed -n 's/.*JobID \([0-9a-f]*\).*/\1/p'
}
